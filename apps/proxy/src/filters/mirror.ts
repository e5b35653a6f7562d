import { Readable } from "node:stream";
import { RequestBody } from "../core/body";
import type { Layer, ProxyRequest } from "../core/types";
import { inShare } from "./fault";

/**
 * Traffic mirroring (Istio's `mirror`): for `percentage` % of requests, a copy goes to `send`
 * once the whole request body has arrived, fire and forget. The copy's authority gets Istio's
 * `-shadow` suffix on the host (`reviews:9080` → `reviews-shadow:9080`) so the mirror target
 * can tell shadow traffic apart, and its body replays the recorded chunks.
 *
 * The main request is passed on untouched and never waits for the copy; a body too large for
 * the replay buffer (or one that failed) is not mirrored, and anything `send` throws or rejects
 * with is swallowed. If `next` never reads the body (it failed before sending), the body never
 * completes and nothing is mirrored.
 */
export function mirrorLayer(percentage: number, send: (req: ProxyRequest) => void, opts: { random?: () => number } = {}): Layer {
  const random = opts.random ?? Math.random;
  return (next) => (req, ctx, signal) => {
    if (inShare(percentage, random)) {
      req.body.keepForReplay();
      const present = req.body.present;
      req.body.whenComplete().then(
        (chunks) => {
          if (chunks === null) return;
          const copy: ProxyRequest = {
            method: req.method,
            path: req.path,
            authority: shadowAuthority(req.authority),
            headers: copyHeaders(req.headers),
            body: present ? replayBody(chunks) : RequestBody.empty(),
          };
          fireAndForget(send, copy);
        },
        () => {},
      );
    }
    return next(req, ctx, signal);
  };
}

/** `host[:port]` → `host-shadow[:port]` (Istio's convention for mirrored requests). */
export function shadowAuthority(authority: string): string {
  const m = /^(.*?)(:\d+)?$/.exec(authority);
  const host = m?.[1] ?? authority;
  return `${host}-shadow${m?.[2] ?? ""}`;
}

function copyHeaders(h: ProxyRequest["headers"]): ProxyRequest["headers"] {
  const out: ProxyRequest["headers"] = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? [...v] : v;
  return out;
}

function replayBody(chunks: Buffer[]): RequestBody {
  const length = chunks.reduce((n, c) => n + c.length, 0);
  return new RequestBody(Readable.from(chunks, { objectMode: false }), length);
}

function fireAndForget(send: (req: ProxyRequest) => void, req: ProxyRequest): void {
  try {
    const r: unknown = send(req);
    if (r instanceof Promise) r.catch(() => {});
  } catch {
    // A shadow's failure must never reach the main request.
  }
}
