import { ProxyError, UpstreamConnectError, UpstreamResetError } from "../core/errors";

const CONNECT_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "EADDRNOTAVAIL"]);

/**
 * Turns a transport failure into the typed error the retry and outlier layers reason about:
 * failing to connect is `connect-failure` (UF), anything that kills an established
 * connection or stream before the response is `reset` (UR). An abort through the attempt's
 * signal is passed through untouched, for the layer that aborted to interpret.
 */
export function upstreamError(err: unknown, what: string): Error {
  if (err instanceof ProxyError) return err;
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  if (e?.name === "AbortError") return err as Error;
  const code = e?.code ?? e?.cause?.code ?? "";
  if (CONNECT_CODES.has(code)) return new UpstreamConnectError(`${what}: ${code}`);
  return new UpstreamResetError(`${what}: ${code || e?.message || String(err)}`);
}
