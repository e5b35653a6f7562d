import type { ResponseFlags } from "../core/response-flags";

/** `-` when there are none, else the flags in Envoy's order joined by `,` (`UH,URX`), as in the access log and the `response_flags` label. */
export function formatResponseFlags(flags: ResponseFlags): string {
  return flags.format();
}
