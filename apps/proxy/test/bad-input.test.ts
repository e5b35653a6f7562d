import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { startHttpApp } from "./helpers/apps";
import type { TestServer } from "./helpers/apps";
import { startProxy } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";

/** Writes raw bytes to the proxy and collects everything it answers until it closes (or 2 s). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let out = "";
    s.setEncoding("latin1");
    s.on("data", (c: string) => (out += c));
    const done = () => resolve(out);
    s.on("close", done);
    s.on("error", done);
    s.write(bytes);
    setTimeout(() => s.destroy(), 2000).unref();
  });
}

describe("malformed and hostile HTTP/1.1 never reaches the app or crashes the proxy", () => {
  let app: TestServer;
  let proxy: TestProxy;
  let port: number;

  before(async () => {
    app = await startHttpApp("reviews");
    proxy = await startProxy({ app: "productpage" }, snapshot({ service: "productpage", hosts: [host({ name: "reviews", ports: [{ port: 9080, protocol: "http" }], endpoints: [{ port: app.port }] })] }));
    port = Number(new URL(proxy.outbound).port);
  });
  after(async () => {
    await proxy.stop();
    await app.close();
  });

  const cases: Array<[string, string, RegExp]> = [
    ["garbage request line", "HELLO THERE\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nHost: reviews:9080\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["conflicting Content-Length", "POST / HTTP/1.1\r\nHost: reviews:9080\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", /^HTTP\/1\.1 400 /],
    ["bad chunk size", "POST / HTTP/1.1\r\nHost: reviews:9080\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["obfuscated Transfer-Encoding", "POST / HTTP/1.1\r\nHost: reviews:9080\r\nTransfer-Encoding: xchunked\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["missing Host", "GET / HTTP/1.1\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["header block over the limit", `GET / HTTP/1.1\r\nHost: reviews:9080\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
    ["unsupported absolute-form scheme", "GET ftp://reviews/x HTTP/1.1\r\nHost: reviews\r\n\r\n", /^HTTP\/1\.1 400 /],
  ];
  for (const [name, bytes, expected] of cases) {
    it(`refuses ${name}`, async () => {
      const before = app.seen.length;
      const answer = await raw(port, bytes);
      assert.match(answer, expected, answer.slice(0, 200));
      assert.equal(app.seen.length, before, "nothing reached the app");
    });
  }

  it("strips hop-by-hop headers, including those named in Connection", async () => {
    const answer = await raw(port, "GET /h HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close, x-secret-hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authorization: Basic abc\r\nTE: gzip\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 200 /);
    const seen = app.seen.at(-1)!;
    for (const h of ["x-secret-hop", "keep-alive", "proxy-authorization", "te"]) assert.equal(seen.headers[h], undefined, h);
  });

  it("survives HTTP/2 garbage: a broken preface, junk frames after a valid preface, and an oversized header block", async () => {
    const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    await raw(port, "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"); // wrong magic
    await raw(port, preface + "\x00\x00\x04\x99\x00\x00\x00\x00\x01junk-junk-junk"); // unknown frame type, then noise
    await raw(port, preface + "\x00\xff\xff\x01\x05\x00\x00\x00\x01" + "a".repeat(70_000)); // HEADERS far over the frame size
    const { execFile } = await import("node:child_process");
    const out = await new Promise<string>((resolve, reject) =>
      execFile("curl", ["-sS", "--http2-prior-knowledge", "-H", "x-big: " + "b".repeat(20_000), "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${port}/`], (err, stdout) => (err && !stdout ? reject(err) : resolve(stdout))),
    );
    assert.notEqual(out, "200", "an oversized HTTP/2 header block is not forwarded");
    const ok = await new Promise<string>((resolve, reject) =>
      execFile("curl", ["-sS", "--http2-prior-knowledge", "-H", "host: reviews:9080", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${port}/after-h2-garbage`], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    assert.equal(ok, "200");
  });

  it("still serves normal traffic after all of that", async () => {
    const answer = await raw(port, "GET /ok HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 200 /);
  });
});
