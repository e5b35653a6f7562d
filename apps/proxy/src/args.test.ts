import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { ArgsError, parseProxyArgs, wantsHelp } from "./args";

const parse = (argv: string[], env: Record<string, string> = {}) => parseProxyArgs(argv, env, () => "1a2b3");

/** The ArgsError message of a parse that must fail. */
function failure(argv: string[], env: Record<string, string> = {}): string {
  try {
    parse(argv, env);
  } catch (err) {
    assert.ok(err instanceof ArgsError, `expected an ArgsError, got ${String(err)}`);
    assert.equal(err.code, "TRELLIS_INVALID_ARGS");
    return err.message;
  }
  assert.fail("expected the options to be refused");
}

describe("parseProxyArgs", () => {
  test("defaults around the two required options", () => {
    assert.deepEqual(parse(["--service", "reviews", "--app-port", "9080"]), {
      mode: "sidecar",
      service: "reviews",
      namespace: "default",
      workload: "reviews-1a2b3",
      labels: {},
      appPort: 9080,
      appProtocol: "http",
      inboundPort: 15006,
      outboundPort: 15001,
      adminPort: 15000,
      controlPlane: "127.0.0.1:15010",
      dataDir: path.resolve(".data/proxy/default-reviews-1a2b3"),
      address: "127.0.0.1",
      bind: "127.0.0.1",
      outboundBind: "127.0.0.1",
      logLevel: "info",
      tcpForward: [],
      otlpEndpoint: "http://127.0.0.1:15080/v1/traces",
    });
  });

  test("spans go to the control plane's host by default, or where --otlp-endpoint says, or nowhere", () => {
    assert.equal(parse(["--service", "a", "--app-port", "1", "--control-plane", "cp.mesh:15010"]).otlpEndpoint, "http://cp.mesh:15080/v1/traces");
    assert.equal(parse(["--service", "a", "--app-port", "1", "--control-plane", "[::1]:15010"]).otlpEndpoint, "http://[::1]:15080/v1/traces");
    assert.equal(parse(["--service", "a", "--app-port", "1", "--otlp-endpoint", "https://collector:4318/v1/traces"]).otlpEndpoint, "https://collector:4318/v1/traces");
    assert.equal(parse(["--service", "a", "--app-port", "1"], { TRELLIS_PROXY_OTLP_ENDPOINT: "off" }).otlpEndpoint, "off");
    assert.match(failure(["--service", "a", "--app-port", "1", "--otlp-endpoint", "collector:4318"]), /--otlp-endpoint "collector:4318": must be an http:\/\/ or https:\/\/ URL/);
    assert.match(failure(["--service", "a", "--app-port", "1"], { TRELLIS_PROXY_OTLP_ENDPOINT: "ftp://x/y" }), /TRELLIS_PROXY_OTLP_ENDPOINT "ftp:\/\/x\/y"/);
  });

  test("a random workload suffix by default: 5 hex digits", () => {
    const o = parseProxyArgs(["--service", "reviews", "--app-port", "9080"]);
    assert.match(o.workload, /^reviews-[0-9a-f]{5}$/);
  });

  test("every option from flags; --version becomes the version label; repeatable options repeat", () => {
    const o = parse([
      "--service", "reviews", "--namespace", "shop", "--workload", "reviews-v2-a", "--version", "v2", "--label", "zone=eu", "--label", "tier=web",
      "--app-port", "9081", "--app-protocol", "grpc", "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0",
      "--control-plane", "control.internal:15010", "--data-dir", "/tmp/proxy-data", "--address", "10.0.0.7", "--bind", "0.0.0.0", "--log-level", "debug",
      "--tcp-forward", "15432=postgres.data:5432", "--tcp-forward", "0=redis:6379",
    ]);
    assert.deepEqual(o.labels, { zone: "eu", tier: "web", version: "v2" });
    assert.equal(o.workload, "reviews-v2-a");
    assert.equal(o.namespace, "shop");
    assert.deepEqual([o.appPort, o.appProtocol, o.inboundPort, o.outboundPort, o.adminPort], [9081, "grpc", 0, 0, 0], "port 0 (any free port) is allowed on listeners");
    assert.deepEqual([o.controlPlane, o.dataDir, o.address, o.bind, o.logLevel], ["control.internal:15010", "/tmp/proxy-data", "10.0.0.7", "0.0.0.0", "debug"]);
    assert.deepEqual(o.tcpForward, [{ localPort: 15432, host: "postgres.data", port: 5432 }, { localPort: 0, host: "redis", port: 6379 }]);
  });

  test("TRELLIS_PROXY_* variables, and flags win over them", () => {
    const env = {
      TRELLIS_PROXY_SERVICE: "ratings",
      TRELLIS_PROXY_NAMESPACE: "shop",
      TRELLIS_PROXY_APP_PORT: "9080",
      TRELLIS_PROXY_ADMIN_PORT: "16000",
      TRELLIS_PROXY_LABELS: "zone=eu, tier=db",
      TRELLIS_PROXY_TCP_FORWARD: "15432=postgres.data:5432,16379=redis:6379",
      TRELLIS_PROXY_LOG_LEVEL: "warn",
    };
    const fromEnv = parse([], env);
    assert.deepEqual([fromEnv.service, fromEnv.namespace, fromEnv.appPort, fromEnv.adminPort, fromEnv.logLevel], ["ratings", "shop", 9080, 16000, "warn"]);
    assert.deepEqual(fromEnv.labels, { zone: "eu", tier: "db" });
    assert.equal(fromEnv.dataDir, path.resolve(".data/proxy/shop-ratings-1a2b3"));
    const both = parse(["--admin-port", "17000", "--label", "zone=us", "--tcp-forward", "15432=postgres.other:5433"], env);
    assert.equal(both.adminPort, 17000);
    assert.deepEqual(both.labels, { zone: "us", tier: "db" }, "a flag replaces the variable's label of the same key");
    assert.deepEqual(both.tcpForward, [{ localPort: 15432, host: "postgres.other", port: 5433 }, { localPort: 16379, host: "redis", port: 6379 }], "and its forward on the same local port");
  });

  test("gateway mode needs no app port", () => {
    const o = parse(["--service", "ingress", "--namespace", "trellis-system", "--mode", "gateway"]);
    assert.equal(o.mode, "gateway");
    assert.equal(o.appPort, undefined);
  });

  test("the service is required, and a sidecar needs its app port", () => {
    assert.match(failure([]), /--service \(or TRELLIS_PROXY_SERVICE\) is required/);
    assert.match(failure(["--service", "reviews"]), /--app-port: is required for a sidecar/);
  });

  test("a bad value names the flag or variable, the value and what would be right", () => {
    assert.match(failure(["--service", "reviews", "--app-port", "http"]), /--app-port "http": must be a port number, 1 to 65535/);
    assert.match(failure(["--service", "reviews", "--app-port", "0"]), /--app-port "0": must be a port number, 1 to 65535/);
    assert.match(failure(["--service", "reviews", "--app-port", "9080", "--inbound-port", "70000"]), /--inbound-port "70000": must be a port number, 0 to 65535/);
    assert.match(failure(["--service", "reviews"], { TRELLIS_PROXY_APP_PORT: "x" }), /TRELLIS_PROXY_APP_PORT "x": must be a port number/);
    assert.match(failure(["--service", "Reviews", "--app-port", "1"]), /--service "Reviews": must be a DNS-1123 label/);
    assert.match(failure(["--service", "reviews", "--app-port", "1", "--app-protocol", "smtp"]), /--app-protocol "smtp": must be one of http, http2, grpc, tcp/);
    assert.match(failure(["--service", "reviews", "--app-port", "1", "--log-level", "loud"]), /--log-level "loud": must be one of debug, info, warn, error/);
    assert.match(failure(["--service", "reviews", "--app-port", "1", "--control-plane", "localhost"]), /--control-plane "localhost": must be host:port/);
    assert.match(failure(["--service", "reviews", "--app-port", "1", "--label", "novalue"]), /--label "novalue": expected KEY=VALUE/);
    assert.match(failure(["--service", "reviews", "--app-port", "1", "--label", "bad key=1"]), /--label "bad key": label keys are alphanumerics/);
    assert.match(failure(["--service", "reviews", "--app-port", "1", "--tcp-forward", "15432"]), /--tcp-forward "15432": expected LOCALPORT=HOST:PORT/);
    assert.match(failure(["--service", "reviews", "--app-port", "1", "--tcp-forward", "15432=Bad_Host:1"]), /--tcp-forward "15432=Bad_Host:1": host must be a host name/);
    assert.match(failure(["--service", "reviews", "--app-port", "1", "--workload", "Upper"]), /--workload "Upper": must be a DNS-1123 subdomain/);
  });

  test("every problem is reported at once", () => {
    const msg = failure(["--service", "reviews", "--app-port", "1", "--app-protocol", "smtp", "--log-level", "loud"]);
    assert.match(msg, /--app-protocol.*; --log-level/);
  });

  test("--version conflicting with a version label is refused", () => {
    assert.match(failure(["--service", "reviews", "--app-port", "1", "--version", "v2", "--label", "version=v1"]), /--version "v2": conflicts with the label version=v1/);
    assert.deepEqual(parse(["--service", "reviews", "--app-port", "1", "--version", "v2", "--label", "version=v2"]).labels, { version: "v2" });
  });

  test("two listeners on one port are refused; port 0 never conflicts", () => {
    assert.match(failure(["--service", "reviews", "--app-port", "1", "--inbound-port", "15000"]), /--inbound-port "15000": port 15000 is already used by --admin-port/);
    assert.match(failure(["--service", "reviews", "--app-port", "1", "--tcp-forward", "15001=db:5432"]), /--tcp-forward "15001=db:5432": port 15001 is already used by --outbound-port/);
    assert.doesNotThrow(() => parse(["--service", "reviews", "--app-port", "1", "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0", "--tcp-forward", "0=db:5432"]));
  });

  test("unknown flags and missing values are errors that point at --help", () => {
    assert.match(failure(["--service", "reviews", "--bogus"]), /Unknown option '--bogus'; see --help/);
    assert.match(failure(["--service"]), /argument missing; see --help/);
    assert.match(failure(["--service", "reviews", "extra"]), /see --help/);
  });

  test("wantsHelp", () => {
    assert.equal(wantsHelp(["--service", "x", "-h"]), true);
    assert.equal(wantsHelp(["--help", "--bogus"]), true);
    assert.equal(wantsHelp(["--service", "x"]), false);
  });
  test("mesh identity: --ca-bundle and --join-token (flags or env); a token needs the bundle and its own shape", () => {
    const o = parse(["--service", "reviews", "--app-port", "9080", "--ca-bundle", "/etc/trellis/ca.pem", "--control-plane", "cp:15012"], { TRELLIS_PROXY_JOIN_TOKEN: "0123456789abcdef.c2VjcmV0" });
    assert.equal(o.caBundle, "/etc/trellis/ca.pem");
    assert.equal(o.joinToken, "0123456789abcdef.c2VjcmV0");
    assert.match(failure(["--service", "reviews", "--app-port", "9080", "--join-token", "0123456789abcdef.c2VjcmV0"]), /--join-token.*needs --ca-bundle/);
    const bad = failure(["--service", "reviews", "--app-port", "9080", "--ca-bundle", "/x", "--join-token", "not-a-token"]);
    assert.match(bad, /--join-token.*<id>\.<secret>/);
    assert.ok(!bad.includes("not-a-token"), "the message does not echo the token");
    assert.equal(parse(["--service", "reviews", "--app-port", "9080", "--ca-bundle", "/x", "--join-token-file", "/run/secrets/token"]).joinTokenFile, "/run/secrets/token");
    assert.match(failure(["--service", "reviews", "--app-port", "9080", "--join-token-file", "/t"]), /--join-token-file.*needs --ca-bundle/);
    assert.match(failure(["--service", "reviews", "--app-port", "9080", "--ca-bundle", "/x", "--join-token-file", "/t", "--join-token", "0123456789abcdef.c2VjcmV0"]), /not both/);
  });
});
