/** Fakes for unit tests of layers: a request, a context and a scripted `next` handler. */
import { Readable } from "node:stream";
import { RequestBody } from "../core/body";
import { RequestContext, UNKNOWN_PEER } from "../core/context";
import type { PeerInfo } from "../core/context";
import type { Handler, Headers, ProxyRequest, ProxyResponse } from "../core/types";

export function fakeRequest(over: Partial<ProxyRequest> = {}): ProxyRequest {
  return { method: "GET", path: "/", authority: "reviews.default:9080", headers: {}, body: RequestBody.empty(), ...over };
}

/** A request whose body streams `chunks` (then ends). */
export function requestWithBody(chunks: string[], over: Partial<ProxyRequest> = {}, limit?: number): ProxyRequest {
  const source = Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false });
  return fakeRequest({ method: "POST", body: new RequestBody(source, undefined, limit), ...over });
}

export function fakeContext(over: { protocol?: "http" | "grpc"; signal?: AbortSignal; downstreamAddress?: string; source?: PeerInfo } = {}): RequestContext {
  return new RequestContext("outbound", over.protocol ?? "http", over.signal ?? new AbortController().signal, over.downstreamAddress ?? "10.0.0.9", over.source ?? UNKNOWN_PEER);
}

export function fakeResponse(status = 200, headers: Headers = {}, body: Readable | null = null): ProxyResponse {
  return { status, headers, body, trailers: () => undefined };
}

/** A response with a body that records whether it was destroyed. */
export function responseWithBody(status: number, headers: Headers = {}): ProxyResponse & { body: Readable } {
  return { status, headers, body: Readable.from([Buffer.from("payload")]), trailers: () => undefined };
}

/** A `next` that runs `steps` in turn (the last repeats) and records each call's signal. */
export function scripted(...steps: Array<(req: ProxyRequest, signal: AbortSignal) => Promise<ProxyResponse> | ProxyResponse>) {
  const signals: AbortSignal[] = [];
  const handler: Handler = async (req, _ctx, signal) => {
    const step = steps[Math.min(signals.length, steps.length - 1)]!;
    signals.push(signal);
    return step(req, signal);
  };
  return { handler, signals, get calls() { return signals.length; } };
}

/** A step that never answers until its signal aborts, then rejects with the signal's reason. */
export function hang(_req: ProxyRequest, signal: AbortSignal): Promise<ProxyResponse> {
  return new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
}

/** Lets pending promise callbacks run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** A seeded uniform source in [0, 1) (mulberry32), for statistical tests that must not flake. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
