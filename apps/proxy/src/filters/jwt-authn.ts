import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors, jwtVerify } from "jose";
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from "jose";
import type { Snapshot } from "@trellis/config";
import { JwtAuthenticationError } from "../core/errors";
import type { Headers, Layer } from "../core/types";

type JwtRuleEntry = Snapshot["inbound"]["jwtRules"][number];

/** The signature algorithms accepted (the RS256 and ES256; `none` and HMAC never). */
export const JWT_ALGORITHMS = ["RS256", "ES256"];

/**
 * Remote JSON Web Key Sets by URI, kept across snapshots so a config push does not refetch
 * them. jose's remote set caches the keys (here for 10 min), refetches when a token names a
 * key id it does not have (at most every 30 s: a flood of unknown kids cannot hammer the
 * issuer), and times a fetch out after 5 s.
 *
 * Safe use: one per proxy, handed to every jwtAuthnLayer built from successive snapshots.
 */
export class JwksCache {
  private readonly remote = new Map<string, JWTVerifyGetKey>();

  remoteSet(uri: string): JWTVerifyGetKey {
    let set = this.remote.get(uri);
    if (!set) this.remote.set(uri, (set = createRemoteJWKSet(new URL(uri), { cacheMaxAge: 600_000, cooldownDuration: 30_000, timeoutDuration: 5_000 })));
    return set;
  }

  /** Drops sets no rule uses any more. */
  retain(uris: ReadonlySet<string>): void {
    for (const uri of this.remote.keys()) if (!uris.has(uri)) this.remote.delete(uri);
  }
}

interface CompiledRule {
  source: string;
  issuer: string;
  audiences: string[] | undefined;
  keys: JWTVerifyGetKey;
  from: { name: string; prefix: string }[];
  forward: boolean;
}

/**
 * RequestAuthentication on inbound requests (Istio semantics): a token found in a rule's
 * headers (default `Authorization: Bearer …`) must verify against the JWKS of the rule whose
 * issuer it names — signature (RS256/ES256), `iss`, `aud` when the rule lists audiences, `exp`
 * and `nbf` — or the request is refused 401. A request without a token passes, without a
 * principal: an authorization rule on requestPrincipals or claims then decides. A verified
 * token gives `ctx.requestPrincipal` (`<iss>/<sub>`) and `ctx.claims` to authorization, and is
 * removed before the app unless the rule says forwardOriginalToken.
 */
export function jwtAuthnLayer(rules: readonly JwtRuleEntry[], cache: JwksCache): Layer {
  if (rules.length === 0) return (next) => next;
  const compiled: CompiledRule[] = rules.map(({ source, rule }) => ({
    source,
    issuer: rule.issuer,
    audiences: rule.audiences,
    keys: rule.jwks !== undefined ? localSet(rule.jwks, source) : cache.remoteSet(rule.jwksUri!),
    from: (rule.fromHeaders ?? [{ name: "authorization", prefix: "Bearer " }]).map((h) => ({ name: h.name.toLowerCase(), prefix: h.prefix ?? "" })),
    forward: rule.forwardOriginalToken,
  }));
  cache.retain(new Set(rules.flatMap((r) => (r.rule.jwksUri ? [r.rule.jwksUri] : []))));
  return (next) => async (req, ctx, signal) => {
    const found = findToken(req.headers, compiled);
    if (!found) return next(req, ctx, signal);
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(found.token).iss;
    } catch {
      throw new JwtAuthenticationError("Jwt is not in the form of Header.Payload.Signature", undefined);
    }
    const candidates = compiled.filter((r) => r.issuer === issuer);
    if (candidates.length === 0) throw new JwtAuthenticationError("Jwt issuer is not configured", undefined);
    // Several RequestAuthentications may name one issuer (other keys, other audiences): one must accept the token.
    let payload: JWTPayload | undefined;
    let rule = candidates[0]!;
    let failure: unknown;
    for (const r of candidates) {
      try {
        // An empty audience list means no audience check, as in Istio.
        ({ payload } = await jwtVerify(found.token, r.keys, { issuer: r.issuer, audience: r.audiences?.length ? r.audiences : undefined, algorithms: JWT_ALGORITHMS }));
        rule = r;
        break;
      } catch (err) {
        failure ??= err;
      }
    }
    if (!payload) throw new JwtAuthenticationError(message(failure), rule.source);
    ctx.requestPrincipal = `${payload.iss}/${payload.sub ?? ""}`;
    ctx.claims = payload;
    if (!rule.forward) delete req.headers[found.header];
    return next(req, ctx, signal);
  };
}

/** The first token in any rule's headers, and the header it was in. */
function findToken(headers: Headers, rules: readonly CompiledRule[]): { token: string; header: string } | undefined {
  for (const r of rules) {
    for (const h of r.from) {
      const raw = headers[h.name];
      const v = typeof raw === "string" ? raw : raw?.[0];
      if (v === undefined || !v.startsWith(h.prefix)) continue;
      const token = v.slice(h.prefix.length).trim();
      if (token) return { token, header: h.name };
    }
  }
  return undefined;
}

function localSet(json: string, source: string): JWTVerifyGetKey {
  try {
    return createLocalJWKSet(JSON.parse(json) as JSONWebKeySet);
  } catch (err) {
    // The snapshot was validated as a string only; a set that does not parse refuses every token of its issuer.
    const reason = `the inline JWKS of ${source} is not a JSON Web Key Set: ${(err as Error).message}`;
    return () => Promise.reject(new Error(reason));
  }
}

/** Envoy's jwt_authn wording for the failure (the caller sees it; it names no key or policy). */
function message(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "Jwt is expired";
  if (err instanceof errors.JWTClaimValidationFailed) return err.claim === "aud" ? "Audiences in Jwt are not allowed" : err.claim === "nbf" ? "Jwt not yet valid" : "Jwt verification fails";
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWSSignatureVerificationFailed) return "Jwt verification fails";
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return "Jwks remote fetch is failed";
  return "Jwt verification fails";
}
