import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { firstJsonLine, spawnChild } from "./children";
import type { Child } from "./children";

// The Node floor's processes against a real app on port 0: every role must carry requests
// (status, headers, streamed bodies both ways), or its figures would flatter or wrong the proxy.
const FLOOR = path.join(path.dirname(fileURLToPath(import.meta.url)), "node-floor.mjs");
const children: Child[] = [];
let appH1: http.Server;
let appH2: http2.Http2Server;

/** The app answers `<method> <path> <host> <x-test> <body bytes>` (HTTP/1.1 and h2c alike). */
function answer(method: string, url: string, host: string, test: string, body: AsyncIterable<Buffer>, reply: (text: string) => void): void {
  void (async () => {
    let n = 0;
    for await (const c of body) n += c.length;
    reply(`${method} ${url} ${host} ${test} ${n}`);
  })();
}

before(async () => {
  appH1 = http.createServer((req, res) => answer(req.method!, req.url!, req.headers.host ?? "", String(req.headers["x-test"]), req, (t) => res.writeHead(201, { "x-app": "yes" }).end(t)));
  appH2 = http2.createServer();
  appH2.on("stream", (s, h) => answer(String(h[":method"]), String(h[":path"]), String(h[":authority"]), String(h["x-test"]), s, (t) => (s.respond({ ":status": 201, "x-app": "yes" }), s.end(t))));
  await Promise.all([appH1, appH2].map((s) => new Promise<void>((r) => s.listen(0, "127.0.0.1", r))));
});

after(async () => {
  await Promise.all(children.map((c) => c.stop()));
  appH1.closeAllConnections();
  await Promise.all([appH1, appH2].map((s) => new Promise((r) => s.close(r))));
});

async function floor(role: string, ...ports: number[]): Promise<{ h1?: number; h2?: number }> {
  const c = spawnChild(`floor ${role}`, process.execPath, [FLOOR, role, ...ports.map(String)], { stdout: "pipe" });
  children.push(c);
  return firstJsonLine(c, 10_000);
}

const port = (s: { address(): unknown }) => (s.address() as AddressInfo).port;

function viaH1(p: number, body?: string): Promise<{ status: number; app: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: p, method: body ? "POST" : "GET", path: "/x?y=1", headers: { host: "app:8080", "x-test": "t1", connection: "keep-alive" } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d)).on("end", () => resolve({ status: res.statusCode!, app: res.headers["x-app"] as string | undefined, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function viaH2(p: number, body?: string): Promise<{ status: number; app: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${p}`);
    session.on("error", reject);
    const s = session.request({ ":method": body ? "POST" : "GET", ":path": "/x?y=1", ":authority": "app:8080", "x-test": "t2" }, { endStream: !body });
    let text = "";
    let head: http2.IncomingHttpHeaders = {};
    s.on("response", (h) => (head = h));
    s.setEncoding("utf8").on("data", (d: string) => (text += d)).on("end", () => (session.close(), resolve({ status: Number(head[":status"]), app: head["x-app"] as string | undefined, text })));
    if (body) s.end(body);
  });
}

test("one process: HTTP/1.1 and h2c in, the app's answer out, bodies streamed to it", async () => {
  const f = await floor("single", port(appH1));
  assert.deepEqual(await viaH1(f.h1!), { status: 201, app: "yes", text: "GET /x?y=1 app:8080 t1 0" });
  assert.deepEqual(await viaH1(f.h1!, "z".repeat(100_000)), { status: 201, app: "yes", text: "POST /x?y=1 app:8080 t1 100000" });
  assert.deepEqual(await viaH2(f.h2!), { status: 201, app: "yes", text: "GET /x?y=1 app:8080 t2 0" });
  assert.deepEqual(await viaH2(f.h2!, "z".repeat(70_000)), { status: 201, app: "yes", text: "POST /x?y=1 app:8080 t2 70000" });
});

test("a pair: HTTP/1.1 into the client, HTTP/2 between the two, HTTP/1.1 to the app", async () => {
  const server = await floor("pair-server", port(appH1));
  const client = await floor("pair-client", server.h2!);
  assert.equal(client.h2, undefined);
  assert.deepEqual(await viaH1(client.h1!), { status: 201, app: "yes", text: "GET /x?y=1 app:8080 t1 0" });
  assert.deepEqual(await viaH1(client.h1!, "z".repeat(100_000)), { status: 201, app: "yes", text: "POST /x?y=1 app:8080 t1 100000" });
});

test("the socket relay passes bytes untouched to the app's HTTP/1.1 and h2c ports", async () => {
  const r = await floor("pipe", port(appH1), port(appH2));
  assert.deepEqual(await viaH1(r.h1!), { status: 201, app: "yes", text: "GET /x?y=1 app:8080 t1 0" });
  assert.deepEqual(await viaH2(r.h2!, "z".repeat(10_000)), { status: 201, app: "yes", text: "POST /x?y=1 app:8080 t2 10000" });
});
