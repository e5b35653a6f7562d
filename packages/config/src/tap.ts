import { z } from "zod";

/**
 * Shared vocabulary of the live tap (telemetry.proto's TapSpec / TapEvent): what an operator
 * may ask for, which requests a filter matches, and which request headers are credentials.
 * The proxy applies all of it before an event leaves the process; the control plane applies
 * it again to what proxies send, so one out-of-date or faulty proxy cannot leak a token to a
 * watcher.
 */

/** What replaces the value of a credential header in a tap event. */
export const TAP_REDACTED = "[redacted]";

/** Prefix of mesh-internal headers, never shown in a tap (they describe the mesh, not the request). */
export const TAP_HIDDEN_HEADER_PREFIX = "x-trellis-";

/** Limits every tap event respects (the proxy cuts to them; the control plane refuses beyond them). */
export const TAP_LIMITS = Object.freeze({
  /** Events in one TapEvents message. */
  eventsPerMessage: 1000,
  /** Request headers per event (the rest are left out). */
  headers: 64,
  /** Characters of a header name. */
  headerName: 128,
  /** Characters of a header value (longer ones are cut and end in `…`). */
  headerValue: 1024,
  /** Characters of the path. */
  path: 2048,
  /** Characters of a name (workload, namespace, service, route, authority). */
  name: 253,
  /** Characters of a tap id. */
  tapId: 128,
  /** Tap ids one event may carry. */
  tapIdsPerEvent: 32,
  /** Events a tap may ask of one proxy per second. */
  maxPerSecond: 1000,
});

const name = z.string().max(TAP_LIMITS.name, `must be at most ${TAP_LIMITS.name} characters`);
const status = z.number().int("must be an integer").min(100, "must be 100 to 599").max(599, "must be 100 to 599");

/** Which requests a tap wants; an absent field matches anything. */
export const TapFilterSchema = z
  .object({
    /** Exact workload name of the caller (`productpage-v1-7d9f`). */
    sourceWorkload: name.optional(),
    /** Exact namespace of the caller. */
    sourceNamespace: name.optional(),
    /** Exact destination service name (`reviews`, or an external host such as `api.stripe.com`). */
    destinationService: name.optional(),
    /** Exact destination namespace. */
    destinationNamespace: name.optional(),
    /** Path prefix, compared with the path without its query string. */
    pathPrefix: z.string().max(256, "must be at most 256 characters").startsWith("/", "must start with '/'").optional(),
    /** Lowest response status to show, inclusive. */
    statusMin: status.optional(),
    /** Highest response status to show, inclusive. */
    statusMax: status.optional(),
  })
  .strict()
  .refine((f) => f.statusMin === undefined || f.statusMax === undefined || f.statusMin <= f.statusMax, { message: "statusMin must not be above statusMax", path: ["statusMin"] });
export type TapFilter = z.infer<typeof TapFilterSchema>;

/** What `tap.watch` takes: the filter plus how much of the matching traffic to show. */
export const TapWatchInputSchema = z
  .object({
    filter: TapFilterSchema.default({}),
    /** Fraction of matching requests shown, 0 < rate ≤ 1 (default 1: all, up to maxPerSecond). */
    sampleRate: z.number().gt(0, "must be above 0").max(1, "must be at most 1").default(1),
    /** At most this many events a second from each proxy (default 20). */
    maxPerSecond: z.number().int("must be an integer").min(1, "must be at least 1").max(TAP_LIMITS.maxPerSecond, `must be at most ${TAP_LIMITS.maxPerSecond}`).default(20),
  })
  .strict();
export type TapWatchInput = z.infer<typeof TapWatchInputSchema>;

/** A filter as the wire carries it (TapFilter in telemetry.proto): "" and 0 match anything. */
export interface TapWireFilter {
  sourceWorkload: string;
  sourceNamespace: string;
  destinationService: string;
  destinationNamespace: string;
  pathPrefix: string;
  statusMin: number;
  statusMax: number;
}

/** The facts of a request a filter looks at. */
export interface TapRequestFacts {
  sourceWorkload: string;
  sourceNamespace: string;
  destinationService: string;
  destinationNamespace: string;
  /** Without the query string. */
  path: string;
  status: number;
}

/** The wire form of a filter. */
export function tapWireFilter(f: TapFilter): TapWireFilter {
  return {
    sourceWorkload: f.sourceWorkload ?? "",
    sourceNamespace: f.sourceNamespace ?? "",
    destinationService: f.destinationService ?? "",
    destinationNamespace: f.destinationNamespace ?? "",
    pathPrefix: f.pathPrefix ?? "",
    statusMin: f.statusMin ?? 0,
    statusMax: f.statusMax ?? 0,
  };
}

/** Whether a request matches a wire filter. */
export function tapMatches(f: TapWireFilter, r: TapRequestFacts): boolean {
  return (
    (f.sourceWorkload === "" || f.sourceWorkload === r.sourceWorkload) &&
    (f.sourceNamespace === "" || f.sourceNamespace === r.sourceNamespace) &&
    (f.destinationService === "" || f.destinationService === r.destinationService) &&
    (f.destinationNamespace === "" || f.destinationNamespace === r.destinationNamespace) &&
    (f.pathPrefix === "" || r.path.startsWith(f.pathPrefix)) &&
    (f.statusMin === 0 || r.status >= f.statusMin) &&
    (f.statusMax === 0 || r.status <= f.statusMax)
  );
}

// Whole names that carry credentials whatever their spelling suggests.
const CREDENTIAL_NAMES = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "apikey", "x-amz-security-token", "x-goog-api-key"]);
// Any name containing one of these is treated as a credential: over-redacting costs a debugging
// hint, under-redacting leaks a token to everyone watching.
const CREDENTIAL_PART = /auth|token|secret|passw|pwd|api-?key|credential|session|cookie|signature|jwt|oidc|csrf|xsrf/;

/** Whether a (lower-case) request header name holds credentials, so a tap shows `[redacted]` instead. */
export function isCredentialHeader(lowerName: string): boolean {
  return CREDENTIAL_NAMES.has(lowerName) || CREDENTIAL_PART.test(lowerName);
}

/** A path without its query string or fragment (either can carry tokens: `?access_token=…`). */
export function pathWithoutQuery(path: string): string {
  const q = path.indexOf("?");
  const h = path.indexOf("#");
  const cut = q === -1 ? h : h === -1 ? q : Math.min(q, h);
  return cut === -1 ? path : path.slice(0, cut);
}

/**
 * The value a tap shows for header `lowerName`: credentials redacted, a referer without its
 * query, and anything longer than the limit cut.
 */
export function tapHeaderValue(lowerName: string, value: string): string {
  if (isCredentialHeader(lowerName)) return TAP_REDACTED;
  const v = lowerName === "referer" ? pathWithoutQuery(value) : value;
  return v.length > TAP_LIMITS.headerValue ? v.slice(0, TAP_LIMITS.headerValue - 1) + "…" : v;
}
