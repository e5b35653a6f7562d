/**
 * The control plane's API, same-origin: /trpc/* is passed to TRELLIS_API_URL as it is
 * (queries, mutations, SSE subscriptions streamed), so the session cookie — httpOnly,
 * SameSite=Strict, set by the API — travels with every call and the browser never talks to
 * another origin. A route handler rather than a next.config rewrite because rewrites are fixed
 * at build time, and one image must run against whatever API address it is given.
 */
const API = () => process.env.TRELLIS_API_URL ?? "http://127.0.0.1:15080";

const REQUEST_HEADERS = ["accept", "content-type", "cookie", "x-trellis-csrf", "authorization", "last-event-id", "trpc-accept"];
const RESPONSE_HEADERS = ["content-type", "cache-control", "retry-after"];

async function pass(req: Request, params: Promise<{ path: string[] }>): Promise<Response> {
  const { path } = await params;
  const url = new URL(req.url);
  const headers = new Headers();
  for (const h of REQUEST_HEADERS) {
    const v = req.headers.get(h);
    if (v !== null) headers.set(h, v);
  }
  let upstream: Response;
  try {
    upstream = await fetch(`${API()}/trpc/${path.map(encodeURIComponent).join("/")}${url.search}`, {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer(),
      signal: req.signal,
      redirect: "manual",
    });
  } catch (err) {
    return Response.json({ error: { message: `the control plane at ${API()} is unreachable: ${(err as Error).message}`, code: -32603, data: { code: "SERVICE_UNAVAILABLE", httpStatus: 503 } } }, { status: 503 });
  }
  const out = new Headers();
  for (const h of RESPONSE_HEADERS) {
    const v = upstream.headers.get(h);
    if (v !== null) out.set(h, v);
  }
  for (const c of upstream.headers.getSetCookie()) out.append("set-cookie", c);
  return new Response(upstream.body, { status: upstream.status, headers: out });
}

type Ctx = { params: Promise<{ path: string[] }> };
export const GET = (req: Request, ctx: Ctx) => pass(req, ctx.params);
export const POST = (req: Request, ctx: Ctx) => pass(req, ctx.params);
export const dynamic = "force-dynamic";
