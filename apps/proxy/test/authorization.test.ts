import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Snapshot } from "@trellis/config";
import { startHttpApp } from "./helpers/apps";
import type { TestServer } from "./helpers/apps";
import { HttpClient, until } from "./helpers/client";
import { startProxy, startSidecar, Teardown } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";

// AuthorizationPolicies enforced by a real server sidecar on real requests (through a client
// sidecar, and straight at the inbound port). Peers here are plaintext; rules on principals
// over real mTLS are in mtls.test.ts. These check the enforcement: status, body, access log,
// what reaches the app.

const POLICIES: Snapshot["inbound"]["authorizationPolicies"] = [
  { source: "AuthorizationPolicy/default/deny-admin", action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin/*"] } }] }] },
  { source: "AuthorizationPolicy/default/allow-reads", action: "ALLOW", rules: [{ to: [{ operation: { methods: ["GET", "HEAD"] } }] }, { to: [{ operation: { methods: ["POST"], paths: ["/orders"] } }], when: [{ key: "request.headers[x-tenant]", values: ["acme"] }] }] },
  { source: "AuthorizationPolicy/default/audit-orders", action: "AUDIT", rules: [{ to: [{ operation: { paths: ["/orders*"] } }] }] },
];

describe("inbound AuthorizationPolicies on the server sidecar", () => {
  const t = new Teardown();
  let app: TestServer;
  let server: TestProxy;
  let viaMesh: HttpClient;
  let direct: HttpClient;

  before(async () => {
    app = t.track(await startHttpApp("api"));
    server = t.track(await startSidecar("api", app.port, { authorizationPolicies: POLICIES }));
    const client = t.track(await startProxy({ app: "web" }, snapshot({ service: "web", hosts: [host({ name: "api", ports: [{ port: 9080, protocol: "http" }], endpoints: [{ port: server.inboundPort, sidecar: true }] })] })));
    viaMesh = t.track(new HttpClient(client.dp.ports.outbound));
    direct = t.track(new HttpClient(server.inboundPort));
  });
  after(() => t.stop());

  const lastLine = (path: string) => server.accessLog.lines.filter((l) => l.path === path).at(-1);

  it("allows what an ALLOW rule matches; DENY wins over it; the rest is 403 without the policy's internals", async () => {
    const seen = app.seen.length;
    assert.equal((await viaMesh.request("api:9080", "/items")).status, 200);
    const denied = await viaMesh.request("api:9080", "/admin/users");
    assert.equal(denied.status, 403, "DENY beats the GET ALLOW");
    assert.equal(denied.body, "RBAC: access denied");
    assert.ok(!/deny-admin|AuthorizationPolicy/.test(denied.body + JSON.stringify(denied.headers)), "the caller learns nothing of the policy");
    const post = await viaMesh.request("api:9080", "/items", { method: "POST", body: "x" });
    assert.equal(post.status, 403, "no ALLOW rule matches a POST to /items");
    assert.equal(app.seen.length - seen, 1, "denied requests never reached the app");
    await until(() => lastLine("/admin/users") !== undefined && lastLine("/items")?.method === "POST", "the denials in the access log");
    assert.equal(lastLine("/admin/users")!.reason, "AuthorizationPolicy/default/deny-admin");
    assert.equal(lastLine("/admin/users")!.response_flags, "RBAC");
    assert.equal(lastLine("/items")!.reason, "AuthorizationPolicy/default/allow-reads");
  });

  it("paths are normalised before policies and the app see them: no '..', '//' or '%61' detour around a DENY", async () => {
    const seen = app.seen.length;
    for (const path of ["/public/../admin/users", "//admin/users", "/%61dmin/users", "/./admin/users", "/%2e%2e/admin/users"]) {
      const r = await direct.request("api:9080", path);
      assert.equal(r.status, 403, `${path}: ${r.status}`);
    }
    assert.equal(app.seen.length, seen, "none reached the app");
    const ok = await direct.request("api:9080", "/a/b/../items//x?q=/../admin");
    assert.equal(ok.status, 200);
    assert.equal(app.seen.at(-1)!.path, "/a/items/x?q=/../admin", "the app gets the normalised path, the query untouched");
    assert.equal((await direct.request("api:9080", "/100%")).status, 400);
  });

  it("when-conditions on headers; AUDIT matches logged, deciding nothing", async () => {
    assert.equal((await direct.request("api:9080", "/orders", { method: "POST", body: "x", headers: { "x-tenant": "acme" } })).status, 200);
    assert.equal((await direct.request("api:9080", "/orders", { method: "POST", body: "x", headers: { "x-tenant": "evil" } })).status, 403);
    await until(() => server.accessLog.lines.filter((l) => l.path === "/orders").length >= 2, "both in the access log");
    for (const l of server.accessLog.lines.filter((x) => x.path === "/orders")) assert.deepEqual(l.audit_policies, ["AuthorizationPolicy/default/audit-orders"]);
    assert.equal(lastLine("/items")?.audit_policies, undefined);
  });
});
