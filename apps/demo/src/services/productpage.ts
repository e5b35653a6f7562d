import type http from "node:http";
import type { Knobs } from "../knobs";
import type { MeshClient, ReviewsReply } from "../mesh-client";
import { traceContext } from "../mesh-client";
import { httpService, idOf, json } from "./common";

/** What productpage gathers for one product; a part that failed says why instead. */
interface Page {
  product: { id: number; title: string };
  details: unknown;
  reviews: ReviewsReply | { error: string };
  offer: unknown;
  stock: string;
}

const settle = <T>(p: Promise<T>): Promise<T | { error: string }> => p.catch((err: Error) => ({ error: err.message }));

/**
 * productpage (HTTP/1.1, behind the ingress gateway): `/productpage` renders a product from
 * details (HTTP/1.1), reviews (gRPC), the external bookstore (a ServiceEntry host) and
 * inventory (raw TCP), each through its sidecar. Like Bookinfo, a failed part is shown as
 * such and the page still renders; `/api/v1/products…` is the JSON API (JWT-guarded at the
 * ingress).
 */
export function productpageServer(knobs: Knobs, mesh: MeshClient): http.Server {
  // `trace`: the trace headers of the request being served, copied onto every call it makes.
  const gather = async (id: number, trace: Record<string, string>): Promise<Page> => {
    const [details, reviews, offer, stock] = await Promise.all([
      settle(mesh.get("details:9080", `/details/${id}`, 5_000, trace).then((r) => (r.status === 200 ? r.body : { error: `details answered ${r.status}` }))),
      settle(mesh.getReviews("reviews:9080", id, 5_000, trace)),
      settle(mesh.get("books.example.com", `/books/${id}`, 5_000, trace).then((r) => (r.status === 200 ? r.body : { error: `bookstore answered ${r.status}` }))),
      mesh.tcpLine("inventory:7000", `STOCK ${id}`).catch((err: Error) => `unavailable (${err.message})`),
    ]);
    return { product: { id, title: "The Comedy of Errors" }, details, reviews, offer, stock };
  };
  return httpService("productpage", knobs, async (req, url, res) => {
    const trace = traceContext((h) => req.headers[h]);
    if (url.pathname === "/" || url.pathname === "/productpage") {
      const page = await gather(0, trace);
      const wantsJson = (req.headers.accept ?? "").includes("application/json");
      if (wantsJson) return json(res, 200, page);
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return void res.end(render(page, url.searchParams.get("u") ?? "anonymous"));
    }
    if (url.pathname === "/api/v1/products") return json(res, 200, [{ id: 0, title: "The Comedy of Errors", descriptionHtml: "Wikipedia Summary: The Comedy of Errors is one of William Shakespeare's early plays." }]);
    const reviewsOf = /^\/api\/v1\/products\/(\d{1,6})\/reviews$/.exec(url.pathname);
    if (reviewsOf) return json(res, 200, await mesh.getReviews("reviews:9080", Number(reviewsOf[1]), 5_000, trace));
    const id = idOf(url.pathname, "/api/v1/products");
    if (id !== undefined) return json(res, 200, await gather(id, trace));
    json(res, 404, { error: "productpage: try /productpage or /api/v1/products" });
  });
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function render(p: Page, user: string): string {
  const reviews = "error" in p.reviews ? `<p class="error">Reviews unavailable: ${esc(p.reviews.error)}</p>` : p.reviews.reviews.map((r) => `<blockquote>${esc(r.text)}<br><small>— ${esc(r.reviewer)}${r.stars ? ` ${"★".repeat(r.stars)} (${esc(r.color)})` : ""}</small></blockquote>`).join("") + `<p><small>reviews ${esc(p.reviews.version)}</small></p>`;
  return `<!doctype html><html><head><title>Bookinfo on Trellis</title></head><body><h1>${esc(p.product.title)}</h1><p>Signed in as ${esc(user)}</p><h2>Details</h2><pre>${esc(JSON.stringify(p.details, null, 2))}</pre><h2>Reviews</h2>${reviews}<h2>Buy</h2><pre>${esc(JSON.stringify(p.offer))}</pre><p>In stock: ${esc(p.stock)}</p></body></html>\n`;
}
