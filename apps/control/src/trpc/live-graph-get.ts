import type { IncomingMessage, ServerResponse } from "node:http";
import { roleAtLeast } from "../auth/auth-service";
import type { Principal } from "../auth/auth-service";
import { GraphQuerySchema } from "../graph/types";
import type { Graph } from "../graph/types";
import type { GraphService } from "../telemetry/graph-service";

/**
 * `GET /trpc/graph.get?input=…` for a live graph, answered with the very bytes tRPC would send
 * (`{"result":{"data":<graph>}}`), serialized once per graph. GraphService already builds a
 * live graph once per query and second and shares it; serializing its ~2.4 MB (1000 services)
 * was then the largest cost of a call — 30 % of the API's CPU in bench/telemetry — and was paid
 * again by every caller: every open overview page polls it. Anything else (batches, replays
 * with `until`, input tRPC would refuse, a failed build) goes to tRPC unchanged, which answers
 * it, errors included, as before. The caller was authenticated already (http-server.ts);
 * graph.get is a viewer procedure.
 */
export function liveGraphGet(telemetry: Pick<GraphService, "graph">): (req: IncomingMessage, res: ServerResponse, principal: Principal, orElse: () => void) => void {
  const bodies = new WeakMap<Graph, Buffer>();
  return (req, res, principal, orElse) => {
    const url = new URL(req.url ?? "/", "http://api");
    if (req.method !== "GET" || url.pathname !== "/trpc/graph.get" || url.searchParams.has("batch") || !roleAtLeast(principal.role, "viewer")) return orElse();
    let input: unknown;
    try {
      const raw = url.searchParams.get("input");
      input = raw === null ? undefined : JSON.parse(raw);
    } catch {
      return orElse();
    }
    const query = GraphQuerySchema.safeParse(input);
    if (!query.success || query.data.until !== undefined) return orElse();
    telemetry.graph(query.data, { stale: true }).then(
      (graph) => {
        let body = bodies.get(graph);
        if (!body) bodies.set(graph, (body = Buffer.from(JSON.stringify({ result: { data: graph } }), "utf8")));
        res.writeHead(200, { "content-type": "application/json", "content-length": body.length }).end(body);
      },
      () => orElse(),
    );
  };
}
