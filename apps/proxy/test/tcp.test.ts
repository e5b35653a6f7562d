import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http2 from "node:http2";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { deadPort, startHttpApp, startTcpApp } from "./helpers/apps";
import type { TestServer } from "./helpers/apps";
import { startProxy } from "./helpers/mesh";
import type { TestProxy } from "./helpers/mesh";
import { host, snapshot } from "./helpers/snapshot";

const exec = promisify(execFile);

/** Sends `CONNECT authority` on a raw socket; resolves with the status and, on 200, the open tunnel. */
function connectTunnel(port: number, authority: string): Promise<{ status: number; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let head = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      head = Buffer.concat([head, c]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      socket.pause();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.toString("latin1"))?.[1] ?? 0);
      if (head.length > end + 4) socket.unshift(head.subarray(end + 4));
      resolve({ status, socket });
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
}

/** A connection to a tcp-forward listener. */
async function connectForward(port: number): Promise<net.Socket> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  return socket;
}

/** Writes `line\n` and resolves with the next line the other end sends. */
function exchange(socket: net.Socket, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (c: Buffer) => {
      buf += c.toString();
      const i = buf.indexOf("\n");
      if (i < 0) return;
      socket.off("data", onData);
      socket.off("error", reject);
      resolve(buf.slice(0, i));
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.resume();
    socket.write(`${line}\n`);
  });
}

/** Half-closes our side and resolves once the proxy closed the connection too. */
function closeAndWait(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once("close", () => resolve());
    socket.resume();
    socket.end();
  });
}

/** Sum of a metric's samples whose label set matches every `labels` pair. */
async function metricSum(proxy: TestProxy, name: string, labels: Record<string, string>): Promise<number> {
  const text = await proxy.dp.metrics.registry.metrics();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once `p` has written no access-log line for 100 ms (connections closed by earlier tests are logged as they finish). */
async function quiet(p: TestProxy): Promise<void> {
  let n = -1;
  while (n !== p.accessLog.lines.length) {
    n = p.accessLog.lines.length;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const tcpLines = (p: TestProxy) => p.accessLog.lines.filter((l) => l.protocol === "tcp");

describe("TCP services through a sidecar pair", () => {
  let dbA: TestServer;
  let dbB: TestServer;
  let web: TestServer;
  let serverA: TestProxy;
  let serverB: TestProxy;
  let client: TestProxy;
  let outbound: number;
  let silentPeer: http2.Http2Server;
  let hangingPeer: http2.Http2Server;
  const hangingSessions = new Set<http2.ServerHttp2Session>();

  let sink: net.Server;
  const sinkState = { produced: 0 };

  before(async () => {
    // Counts what it receives until FIN, then answers the count; `GIVE <n>\n` instead streams n bytes back.
    sink = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on("error", () => undefined);
      let n = 0;
      let first = true;
      let giving = false;
      s.on("data", (c: Buffer) => {
        if (first && c.toString("latin1", 0, 5) === "GIVE ") {
          first = false;
          giving = true;
          void give(s, Number(c.toString().slice(5).trim()));
          return;
        }
        first = false;
        n += c.length;
      });
      s.on("end", () => {
        if (!giving) s.end(`${n}\n`);
      });
    });
    const give = async (s: net.Socket, total: number) => {
      const chunk = Buffer.alloc(64 * 1024, 0x7a);
      sinkState.produced = 0;
      while (sinkState.produced < total && !s.destroyed) {
        sinkState.produced += chunk.length;
        if (!s.write(chunk)) await new Promise((r) => s.once("drain", r));
      }
      s.end();
    };
    await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
    const sinkPort = (sink.address() as net.AddressInfo).port;
    // A "peer sidecar" that ends every CONNECT stream without answering it.
    silentPeer = http2.createServer();
    silentPeer.on("stream", (stream) => stream.close(http2.constants.NGHTTP2_NO_ERROR));
    await new Promise<void>((r) => silentPeer.listen(0, "127.0.0.1", r));
    const silentPort = (silentPeer.address() as net.AddressInfo).port;
    // One that never answers them.
    hangingPeer = http2.createServer();
    hangingPeer.on("session", (session) => hangingSessions.add(session));
    hangingPeer.on("stream", (stream) => stream.on("error", () => undefined));
    await new Promise<void>((r) => hangingPeer.listen(0, "127.0.0.1", r));
    const hangingPort = (hangingPeer.address() as net.AddressInfo).port;
    dbA = await startTcpApp("db-a");
    dbB = await startTcpApp("db-b");
    web = await startHttpApp("web");
    const nothing = await deadPort();
    serverA = await startProxy(
      { app: "db", workload: "db-a" },
      snapshot({
        service: "db",
        listeners: [
          { name: "tcp", port: 5432, targetPort: dbA.port, protocol: "tcp" },
          { name: "tcp-web", port: 8000, targetPort: web.port, protocol: "tcp" },
          { name: "tcp-broken", port: 6000, targetPort: nothing, protocol: "tcp" },
          { name: "tcp-sink", port: 7000, targetPort: sinkPort, protocol: "tcp" },
        ],
      }),
    );
    serverB = await startProxy({ app: "db", workload: "db-b" }, snapshot({ service: "db", listeners: [{ name: "tcp", port: 5432, targetPort: dbB.port, protocol: "tcp" }] }));
    const down = await deadPort();
    client = await startProxy(
      { app: "api", workload: "api-0" },
      snapshot({
        service: "api",
        hosts: [
          host({ name: "db", ports: [{ port: 5432, protocol: "tcp" }], endpoints: [{ port: serverA.inboundPort, sidecar: true }, { port: serverB.inboundPort, sidecar: true }] }),
          host({ name: "web", ports: [{ port: 8000, protocol: "tcp" }], endpoints: [{ port: serverA.inboundPort, sidecar: true }] }),
          host({ name: "sink", ports: [{ port: 7000, protocol: "tcp" }], endpoints: [{ port: serverA.inboundPort, sidecar: true }] }),
          host({ name: "broken", ports: [{ port: 6000, protocol: "tcp" }], endpoints: [{ port: serverA.inboundPort, sidecar: true }] }),
          host({ name: "legacy-db", ports: [{ port: 5432, protocol: "tcp" }], endpoints: [{ port: dbA.port }] }),
          host({ name: "gone-db", ports: [{ port: 5432, protocol: "tcp" }], endpoints: [{ port: down }] }),
          host({ name: "silent", ports: [{ port: 5432, protocol: "tcp" }], endpoints: [{ port: silentPort, sidecar: true }] }),
          host({ name: "hanging", ports: [{ port: 5432, protocol: "tcp" }], endpoints: [{ port: hangingPort, sidecar: true }] }),
        ],
      }),
      { tcpForward: [{ port: 0, authority: "db:5432" }, { port: 0, authority: "gone-db:5432" }], tcpBytesEveryMs: 50 },
    );
    outbound = client.dp.ports.outbound;
  });
  after(async () => {
    await client.stop();
    await serverA.stop();
    await serverB.stop();
    await dbA.close();
    await dbB.close();
    await web.close();
    await new Promise<void>((r) => sink.close(() => r()));
    await new Promise<void>((r) => silentPeer.close(() => r()));
    for (const session of hangingSessions) session.destroy();
    await new Promise<void>((r) => hangingPeer.close(() => r()));
  });

  it("tunnels a raw CONNECT to the TCP app behind the peer sidecar", async () => {
    const { status, socket } = await connectTunnel(outbound, "db:5432");
    assert.equal(status, 200);
    const first = await exchange(socket, "hello");
    assert.match(first, /^db-[ab]:hello$/);
    assert.equal(await exchange(socket, "again"), `${first.split(":")[0]}:again`, "one connection stays on one endpoint");
    await closeAndWait(socket);
  });

  it("carries real curl through CONNECT (-p -x) to an HTTP server declared as TCP", async () => {
    const { stdout } = await exec("curl", ["-sS", "-p", "-x", `http://127.0.0.1:${outbound}`, "http://web:8000/through-tunnel"]);
    const echo = JSON.parse(stdout) as { name: string; path: string; headers: Record<string, string> };
    assert.equal(echo.name, "web");
    assert.equal(echo.path, "/through-tunnel");
    assert.equal(echo.headers.host, "web:8000", "bytes are passed through untouched");
  });

  it("forwards a tcp-forward listener's connections to the service", async () => {
    const socket = net.connect(client.dp.ports.tcpForward[0]!, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    assert.match(await exchange(socket, "fwd"), /^db-[ab]:fwd$/);
    await closeAndWait(socket);
  });

  it("balances connections over both endpoints", async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      const { socket } = await connectTunnel(outbound, "db:5432");
      const who = (await exchange(socket, `n${i}`)).split(":")[0]!;
      seen.set(who, (seen.get(who) ?? 0) + 1);
      await closeAndWait(socket);
    }
    assert.ok((seen.get("db-a") ?? 0) >= 3 && (seen.get("db-b") ?? 0) >= 3, `both endpoints got connections: ${JSON.stringify(Object.fromEntries(seen))}`);
  });

  it("reaches a TCP endpoint without a sidecar directly", async () => {
    const { status, socket } = await connectTunnel(outbound, "legacy-db:5432");
    assert.equal(status, 200);
    assert.equal(await exchange(socket, "direct"), "db-a:direct");
    await closeAndWait(socket);
  });

  it("counts bytes and connections in metrics and writes one access-log line per connection", async () => {
    await Promise.all([quiet(client), quiet(serverA), quiet(serverB)]);
    const source = { reporter: "source", destination_service_name: "db" };
    const dest = { reporter: "destination" };
    const before = {
      sent: await metricSum(client, "istio_tcp_sent_bytes_total", source),
      received: await metricSum(client, "istio_tcp_received_bytes_total", source),
      opened: await metricSum(client, "istio_tcp_connections_opened_total", source),
      closed: await metricSum(client, "istio_tcp_connections_closed_total", source),
      serverReceived: (await metricSum(serverA, "istio_tcp_received_bytes_total", dest)) + (await metricSum(serverB, "istio_tcp_received_bytes_total", dest)),
      clientLines: tcpLines(client).length,
      serverLines: tcpLines(serverA).length + tcpLines(serverB).length,
    };
    const { socket } = await connectTunnel(outbound, "db:5432");
    // 6 + 8 bytes up; "db-x:hello\n" (11) + "db-x:goodbye\n" (13) down.
    await exchange(socket, "hello");
    await exchange(socket, "goodbye");
    await closeAndWait(socket);
    await waitFor("the client sidecar to log the connection", () => tcpLines(client).length > before.clientLines);
    await waitFor("the server sidecar to log the connection", () => tcpLines(serverA).length + tcpLines(serverB).length > before.serverLines);
    assert.equal(await metricSum(client, "istio_tcp_received_bytes_total", source), before.received + 14);
    assert.equal(await metricSum(client, "istio_tcp_sent_bytes_total", source), before.sent + 24);
    assert.equal(await metricSum(client, "istio_tcp_connections_opened_total", source), before.opened + 1);
    assert.equal(await metricSum(client, "istio_tcp_connections_closed_total", source), before.closed + 1);
    const serverReceived = (await metricSum(serverA, "istio_tcp_received_bytes_total", dest)) + (await metricSum(serverB, "istio_tcp_received_bytes_total", dest));
    assert.equal(serverReceived, before.serverReceived + 14);
    // Exactly one line per connection on each side, with the bytes.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(tcpLines(client).length, before.clientLines + 1, JSON.stringify(tcpLines(client).slice(before.clientLines), null, 1));
    assert.equal(tcpLines(serverA).length + tcpLines(serverB).length, before.serverLines + 1);
    const line = tcpLines(client).at(-1)!;
    assert.equal(line.bytes_received, 14);
    assert.equal(line.bytes_sent, 24);
    assert.equal(line.upstream_cluster, "outbound|5432||db.default");
    assert.equal(line.response_flags, "-");
    // The peer said who it is on the CONNECT response, as it does on HTTP responses.
    assert.match(String(line.destination_workload), /^db-[ab]$/);
    assert.equal(await metricSum(client, "istio_tcp_connections_opened_total", { ...source, destination_workload: String(line.destination_workload) }) >= 1, true);
    const serverLine = [...tcpLines(serverA), ...tcpLines(serverB)].sort((a, b) => String(a.start_time).localeCompare(String(b.start_time))).at(-1)!;
    assert.equal(serverLine.source_workload, "api-0");
    assert.equal(serverLine.bytes_received, 14);
    assert.equal(serverLine.bytes_sent, 24);
  });

  it("reports a long connection's bytes while it is still open", async () => {
    await quiet(client);
    const source = { reporter: "source", destination_service_name: "db" };
    const before = await metricSum(client, "istio_tcp_sent_bytes_total", source);
    const { socket } = await connectTunnel(outbound, "db:5432");
    await exchange(socket, "still-open");
    // "db-x:still-open\n" is 16 bytes; the client sidecar reports it every 50 ms here, not only at close.
    await waitFor("the open connection's bytes in the metrics", async () => (await metricSum(client, "istio_tcp_sent_bytes_total", source)) === before + 16);
    assert.equal(socket.destroyed, false, "measured while the connection was open");
    await closeAndWait(socket);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await metricSum(client, "istio_tcp_sent_bytes_total", source), before + 16, "the close adds no second count");
  });

  it("passes a client's half-close on and still delivers the reply", async () => {
    for (const open of [() => connectTunnel(outbound, "db:5432").then((t) => t.socket), () => connectForward(client.dp.ports.tcpForward[0]!)]) {
      const socket = await open();
      let got = "";
      socket.on("data", (c: Buffer) => (got += c.toString()));
      socket.resume();
      // Request then FIN at once, as `nc -N` or an HTTP/1.0 client does; the reply comes after our FIN.
      socket.end("last words\n");
      await new Promise<void>((resolve, reject) => {
        socket.once("close", () => resolve());
        setTimeout(() => reject(new Error(`the connection did not close (got ${JSON.stringify(got)})`)), 3_000).unref();
      });
      assert.match(got, /^db-[ab]:last words\n$/);
    }
  });

  it("moves 256 MiB up through a tunnel with bounded memory, and the counts match", async () => {
    const total = 256 * 1024 * 1024;
    await quiet(client);
    const before = await metricSum(client, "istio_tcp_received_bytes_total", { reporter: "source", destination_service_name: "sink" });
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const { socket } = await connectTunnel(outbound, "sink:7000");
    const chunk = Buffer.alloc(64 * 1024, 0x79);
    let answer = "";
    socket.on("data", (c: Buffer) => (answer += c.toString()));
    socket.resume();
    const closed = new Promise((r) => socket.once("close", r));
    for (let sent = 0; sent < total; sent += chunk.length) {
      if (!socket.write(chunk)) await new Promise((r) => socket.once("drain", r));
    }
    socket.end();
    await closed;
    clearInterval(sampler);
    assert.equal(answer, `${total}\n`);
    assert.ok(peak - base < 100 * 1024 * 1024, `RSS grew by ${((peak - base) / 1024 / 1024).toFixed(0)} MiB`);
    await waitFor("the byte count", async () => (await metricSum(client, "istio_tcp_received_bytes_total", { reporter: "source", destination_service_name: "sink" })) === before + total);
  });

  it("applies backpressure down a tunnel when the client stops reading", async () => {
    const total = 256 * 1024 * 1024;
    const { socket } = await connectTunnel(outbound, "sink:7000");
    socket.write(`GIVE ${total}\n`);
    await new Promise((r) => setTimeout(r, 500));
    const stalled = sinkState.produced;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sinkState.produced, stalled, "the app is blocked while the client does not read");
    assert.ok(stalled < 32 * 1024 * 1024, `app wrote ${(stalled / 1024 / 1024).toFixed(1)} MiB before it blocked`);
    let received = 0;
    socket.on("data", (c: Buffer) => (received += c.length));
    socket.resume();
    socket.end();
    await new Promise((r) => socket.once("close", r));
    assert.equal(received, total);
  });

  it("closes the client's connection when the app closes its side", async () => {
    const { socket } = await connectTunnel(outbound, "db:5432");
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    assert.match(await exchange(socket, "quit"), /^db-[ab]:bye$/);
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error("the client's tunnel stayed open after the app closed")), 3_000).unref())]);
  });

  it("answers 404 to CONNECT for an unknown host", async () => {
    const { status, socket } = await connectTunnel(outbound, "nowhere:5432");
    assert.equal(status, 404);
    socket.destroy();
    assert.equal(tcpLines(client).at(-1)!.response_flags, "NR");
  });

  it("answers 503 when the upstream is down, directly or behind the peer sidecar", async () => {
    const direct = await connectTunnel(outbound, "gone-db:5432");
    assert.equal(direct.status, 503);
    direct.socket.destroy();
    assert.equal(tcpLines(client).at(-1)!.response_flags, "UF");
    const peer = await connectTunnel(outbound, "broken:6000");
    assert.equal(peer.status, 503);
    peer.socket.destroy();
    await waitFor("the server sidecar to log the refused tunnel", () => tcpLines(serverA).at(-1)?.response_flags === "UF");
  });

  it("answers 503 when the peer ends the tunnel stream without answering", async () => {
    const res = await Promise.race([connectTunnel(outbound, "silent:5432"), new Promise<never>((_, reject) => setTimeout(() => reject(new Error("CONNECT got no answer")), 3_000).unref())]);
    assert.equal(res.status, 503);
    res.socket.destroy();
  });

  it("a caller leaving while the tunnel is being set up is DC, not an upstream failure", async () => {
    const socket = net.connect(outbound, "127.0.0.1");
    socket.on("error", () => undefined);
    socket.write("CONNECT hanging:5432 HTTP/1.1\r\nHost: hanging:5432\r\n\r\n");
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    const line = () => tcpLines(client).find((l) => l.upstream_cluster === "outbound|5432||hanging.default");
    await waitFor("the abandoned tunnel to be logged", () => line() !== undefined);
    assert.equal(line()!.response_flags, "DC");
  });

  it("closes a tcp-forward connection whose upstream is down", async () => {
    const socket = net.connect(client.dp.ports.tcpForward[1]!, "127.0.0.1");
    let got = 0;
    socket.on("data", (c: Buffer) => (got += c.length));
    await new Promise<void>((resolve, reject) => {
      socket.once("close", () => resolve());
      setTimeout(() => reject(new Error("the forward connection stayed open")), 3_000).unref();
    });
    assert.equal(got, 0);
    assert.equal(tcpLines(client).at(-1)!.response_flags, "UF");
  });
});
