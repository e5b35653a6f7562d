import http from "node:http";

/** One GET over a fresh connection with an explicit Host header (fetch cannot set one). */
export function probe(port: number, authority: string, path = "/"): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, headers: { host: authority }, agent: false, timeout: 5_000 }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** Resolves once GET answers 200 with `bytes` of body (a route is in place end to end). */
export async function servesPayload(port: number, authority: string, bytes: number): Promise<true | undefined> {
  const r = await probe(port, authority);
  if (r.status === 200 && r.bytes === bytes) return true;
  throw new Error(`GET http://${authority}/ via 127.0.0.1:${port}: ${r.status}, ${r.bytes} bytes`);
}
