import http2 from "node:http2";
import type { Knobs } from "../knobs";
import { apply } from "../knobs";

/** ratings (HTTP/2, h2c): `GET /ratings/<id>` → stars per reviewer. */
export function ratingsServer(knobs: Knobs): http2.Http2Server {
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    const send = (status: number, body: unknown) => {
      if (stream.destroyed) return;
      stream.respond({ ":status": status, "content-type": "application/json" });
      stream.end(JSON.stringify(body));
    };
    const path = String(headers[":path"] ?? "/");
    if (path === "/healthz") return send(200, { service: "ratings", ok: true });
    void apply(knobs).then((fail) => {
      if (fail) return send(503, { error: "ratings: injected failure (--failure-rate)" });
      const m = /^\/ratings\/(\d{1,6})$/.exec(path);
      if (!m) return send(404, { error: "ratings: try /ratings/<id>" });
      send(200, { id: Number(m[1]), ratings: { Reviewer1: 5, Reviewer2: 4 } });
    });
  });
  return server;
}
