import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { authorize } from "./authorize";
import type { AuthzPolicy, AuthzRequest } from "./authorize";

const REVIEWS = "spiffe://cluster.local/ns/bookinfo/sa/reviews";
const req = (over: Partial<AuthzRequest> = {}): AuthzRequest => ({ method: "GET", path: "/ratings/1", port: 9080, headers: {}, sourcePrincipal: REVIEWS, sourceNamespace: "bookinfo", ...over });
const policy = (name: string, action: AuthzPolicy["action"], rules: AuthzPolicy["rules"]): AuthzPolicy => ({ source: `AuthorizationPolicy/bookinfo/${name}`, action, rules });

describe("authorize (Istio semantics)", () => {
  test("no policy allows; an ALLOW with no rules allows nothing; [{}] allows everything", () => {
    assert.equal(authorize([], req()).allowed, true);
    const nothing = authorize([policy("allow-nothing", "ALLOW", [])], req());
    assert.deepEqual([nothing.allowed, nothing.policy], [false, "AuthorizationPolicy/bookinfo/allow-nothing"]);
    assert.equal(authorize([policy("allow-all", "ALLOW", [{}])], req()).allowed, true);
    assert.equal(authorize([policy("deny-none", "DENY", [])], req()).allowed, true, "a DENY with no rules denies nothing");
  });

  test("DENY is evaluated first and beats a matching ALLOW", () => {
    const allow = policy("allow-get", "ALLOW", [{ to: [{ operation: { methods: ["GET"] } }] }]);
    const deny = policy("deny-admin", "DENY", [{ to: [{ operation: { paths: ["/admin/*"] } }] }]);
    const d = authorize([allow, deny], req({ path: "/admin/users" }));
    assert.deepEqual([d.allowed, d.policy], [false, "AuthorizationPolicy/bookinfo/deny-admin"]);
    assert.match(d.reason, /DENY, rule 0/);
    assert.equal(authorize([allow, deny], req()).allowed, true);
    assert.equal(authorize([allow, deny], req({ method: "POST" })).allowed, false, "no ALLOW rule matches a POST");
  });

  test("operations: methods, ports, paths exact / prefix / suffix / any, notPaths", () => {
    const p = (operation: object) => [policy("p", "ALLOW", [{ to: [{ operation }] }])];
    assert.equal(authorize(p({ paths: ["/ratings/1"] }), req()).allowed, true);
    assert.equal(authorize(p({ paths: ["/ratings"] }), req()).allowed, false);
    assert.equal(authorize(p({ paths: ["/ratings/*"] }), req()).allowed, true);
    assert.equal(authorize(p({ paths: ["*.png"] }), req({ path: "/img/logo.png" })).allowed, true);
    assert.equal(authorize(p({ paths: ["*"] }), req()).allowed, true);
    assert.equal(authorize(p({ notPaths: ["/ratings/*"] }), req()).allowed, false);
    assert.equal(authorize(p({ notPaths: ["/healthz"] }), req()).allowed, true);
    assert.equal(authorize(p({ methods: ["GET", "HEAD"], ports: [9080] }), req()).allowed, true);
    assert.equal(authorize(p({ methods: ["GET"], ports: [9090] }), req()).allowed, false, "every field of an operation must match");
  });

  test("sources: principals with wildcards, namespaces, their not-forms; plaintext has no principal", () => {
    const p = (source: object) => [policy("p", "ALLOW", [{ from: [{ source }] }])];
    assert.equal(authorize(p({ principals: [REVIEWS] }), req()).allowed, true);
    assert.equal(authorize(p({ principals: ["spiffe://cluster.local/ns/bookinfo/*"] }), req()).allowed, true);
    assert.equal(authorize(p({ principals: ["*"] }), req({ sourcePrincipal: undefined, sourceNamespace: undefined })).allowed, false, "* means any authenticated peer");
    assert.equal(authorize(p({ notPrincipals: [REVIEWS] }), req()).allowed, false);
    assert.equal(authorize(p({ notPrincipals: [REVIEWS] }), req({ sourcePrincipal: undefined })).allowed, true);
    assert.equal(authorize(p({ namespaces: ["bookinfo"] }), req()).allowed, true);
    assert.equal(authorize(p({ namespaces: ["bookinfo"] }), req({ sourceNamespace: "other" })).allowed, false);
    assert.equal(authorize(p({ notNamespaces: ["other"] }), req()).allowed, true);
    // Two sources OR; two rules OR.
    const two = [policy("p", "ALLOW", [{ from: [{ source: { namespaces: ["a"] } }, { source: { namespaces: ["bookinfo"] } }] }])];
    assert.equal(authorize(two, req()).allowed, true);
  });

  test("when: headers, JWT claims (arrays too), request principal, source attributes, with values and notValues", () => {
    const p = (when: object[]) => [policy("p", "ALLOW", [{ when: when as never }])];
    assert.equal(authorize(p([{ key: "request.headers[x-tenant]", values: ["acme"] }]), req({ headers: { "x-tenant": "acme" } })).allowed, true);
    assert.equal(authorize(p([{ key: "request.headers[X-Tenant]", values: ["ac*"] }]), req({ headers: { "x-tenant": "acme" } })).allowed, true, "header names are case-insensitive");
    assert.equal(authorize(p([{ key: "request.headers[x-tenant]", values: ["acme"] }]), req()).allowed, false, "an absent header matches no value");
    assert.equal(authorize(p([{ key: "request.headers[x-tenant]", notValues: ["evil"] }]), req({ headers: { "x-tenant": "evil" } })).allowed, false);
    assert.equal(authorize(p([{ key: "request.auth.claims[groups]", values: ["admins"] }]), req({ claims: { groups: ["users", "admins"] } })).allowed, true);
    assert.equal(authorize(p([{ key: "request.auth.claims[groups]", values: ["admins"] }]), req({ claims: { groups: "users" } })).allowed, false);
    assert.equal(authorize(p([{ key: "request.auth.principal", values: ["https://issuer.example/*"] }]), req({ requestPrincipal: "https://issuer.example/alice" })).allowed, true);
    assert.equal(authorize(p([{ key: "source.namespace", values: ["bookinfo"] }, { key: "destination.port", values: ["9080"] }]), req()).allowed, true);
    assert.equal(authorize(p([{ key: "source.namespace", values: ["bookinfo"] }, { key: "destination.port", values: ["1"] }]), req()).allowed, false, "every condition must match");
  });

  test("AUDIT policies decide nothing but are reported when they match", () => {
    const audit = policy("audit-ratings", "AUDIT", [{ to: [{ operation: { paths: ["/ratings/*"] } }] }]);
    const d = authorize([audit], req());
    assert.deepEqual([d.allowed, d.audited], [true, ["AuthorizationPolicy/bookinfo/audit-ratings"]]);
    assert.deepEqual(authorize([audit], req({ path: "/other" })).audited, []);
  });
});

describe("authorize: not-variants and lists that must say something", () => {
  test("notMethods, notPorts and notRequestPrincipals exclude what they name", () => {
    const allow = (rule: AuthzPolicy["rules"][number]) => [policy("p", "ALLOW", [rule])];
    assert.equal(authorize(allow({ to: [{ operation: { notMethods: ["DELETE"] } }] }), req()).allowed, true);
    assert.equal(authorize(allow({ to: [{ operation: { notMethods: ["DELETE"] } }] }), req({ method: "DELETE" })).allowed, false);
    assert.equal(authorize(allow({ to: [{ operation: { notPorts: [9090] } }] }), req({ port: 9090 })).allowed, false);
    assert.equal(authorize(allow({ to: [{ operation: { notPorts: [9090] } }] }), req()).allowed, true);
    const noBots = allow({ from: [{ source: { notRequestPrincipals: ["https://auth/bot-*"] } }] });
    assert.equal(authorize(noBots, req({ requestPrincipal: "https://auth/bot-7" })).allowed, false);
    assert.equal(authorize(noBots, req({ requestPrincipal: "https://auth/alice" })).allowed, true);
  });

  test("the schema refuses empty lists and conditions without values, naming the field", async () => {
    const { AuthorizationPolicySpecSchema } = await import("../resources/authorization-policy");
    const problems = (spec: unknown) => AuthorizationPolicySpecSchema.safeParse(spec).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
    assert.deepEqual(problems({ rules: [{ from: [{ source: { principals: [] } }] }] }), ["rules.0.from.0.source.principals: must name at least one value; omit the field to match any"]);
    assert.deepEqual(problems({ rules: [{ to: [{ operation: { notPaths: [] } }] }] }), ["rules.0.to.0.operation.notPaths: must name at least one value; omit the field to match any"]);
    assert.deepEqual(problems({ rules: [{ when: [{ key: "request.headers[x-tenant]" }] }] }), ["rules.0.when.0.values: a condition needs values or notValues (without either it would match every request)"]);
    assert.deepEqual(problems({ rules: [{ when: [{ key: "request.headers[x-tenant]", notValues: ["evil"] }] }] }), []);
  });
});
