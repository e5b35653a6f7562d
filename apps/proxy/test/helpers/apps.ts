import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { AddressInfo } from "node:net";

/** A running test server and how to stop it. */
export interface TestServer {
  port: number;
  /** Requests seen, newest last. */
  seen: Array<{ method: string; path: string; headers: http.IncomingHttpHeaders; bodyBytes: number }>;
  close(): Promise<void>;
}

export type AppBehaviour = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** Echoes `{name, method, path, headers, bodyBytes}` as JSON with 200, unless `behaviour` answers. */
export async function startHttpApp(name: string, behaviour?: AppBehaviour): Promise<TestServer> {
  const seen: TestServer["seen"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, bodyBytes: body.length });
      if (behaviour) return behaviour(req, res, body);
      echo(name, req, res, body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The default answer of startHttpApp: 200 with `{name, method, path, headers, bodyBytes}` and an `x-app: <name>` header. */
export function echo(name: string, req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, status = 200): void {
  const out = JSON.stringify({ name, method: req.method, path: req.url, headers: req.headers, bodyBytes: body.length });
  res.writeHead(status, { "content-type": "application/json", "x-app": name });
  res.end(out);
}

/** An h2c app answering JSON like startHttpApp. */
export async function startH2App(name: string): Promise<TestServer> {
  const seen: TestServer["seen"] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: String(headers[":method"]), path: String(headers[":path"]), headers: headers as http.IncomingHttpHeaders, bodyBytes: body.length });
      stream.respond({ ":status": 200, "content-type": "application/json", "x-app": name });
      stream.end(JSON.stringify({ name, method: headers[":method"], path: headers[":path"], bodyBytes: body.length }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A TCP line service: answers each line with `<name>:<line>`; the line `quit` gets `<name>:bye` and the app closes the connection. */
export async function startTcpApp(name: string): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
    let buf = "";
    s.on("data", (c) => {
      buf += c.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === "quit") {
          s.end(`${name}:bye\n`);
          return;
        }
        s.write(`${name}:${line}\n`);
      }
    });
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    seen: [],
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * A port nothing listens on and nothing will: a privileged port (below 1024) that refuses connections now.
 * A port bound and released from the ephemeral range is not enough — any later listen(0) in this or a parallel
 * test process may be handed it, and the "dead" upstream then answers (a CI run saw exactly that).
 */
export async function deadPort(): Promise<number> {
  for (let port = 1; port < 1024; port++) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(false)));
      s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
    });
    if (refused) return port;
  }
  throw new Error("no refusing port below 1024 on 127.0.0.1");
}

/** A startHttpApp whose answers follow a per-key script, and when each key's requests arrived. */
export interface ScriptedApp extends TestServer {
  /** Arrival times (performance.now()) of the requests of each `x-key`. */
  arrivals: Map<string, number[]>;
}

/**
 * An app that answers the n-th request carrying `x-key: K` with step n of the comma-separated
 * `x-script` header (the last step repeats): `ok` (200 echo), a status such as `503`,
 * `slowN` (200 after N ms), `reset` (destroys the connection without answering) or `hang`
 * (never answers). Without a script every request is `ok`. Keys keep tests in one file apart.
 */
export async function startScriptedApp(name: string): Promise<ScriptedApp> {
  const arrivals = new Map<string, number[]>();
  const app = await startHttpApp(name, (req, res, body) => {
    const key = String(req.headers["x-key"] ?? "");
    const times = arrivals.get(key) ?? [];
    times.push(performance.now());
    arrivals.set(key, times);
    const script = String(req.headers["x-script"] ?? "ok").split(",");
    const step = script[Math.min(times.length, script.length) - 1]!.trim();
    res.setHeader("x-attempt", String(times.length));
    if (step === "ok") return echo(name, req, res, body);
    if (step === "reset") return req.socket.destroy();
    if (step === "hang") return;
    if (step.startsWith("slow")) {
      const timer = setTimeout(() => echo(name, req, res, body), Number(step.slice(4)));
      res.once("close", () => clearTimeout(timer));
      return;
    }
    echo(name, req, res, body, Number(step));
  });
  return { ...app, arrivals };
}
