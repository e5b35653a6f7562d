import { NameSchema, type Service } from "@trellis/config";
import { z } from "zod";
import { viewerProcedure, router } from "../trpc";

const Filter = z.object({ namespace: NameSchema.optional(), service: NameSchema.optional() }).default({});

export const servicesRouter = router({
  /** Services with their live endpoint counts. */
  list: viewerProcedure.input(z.object({ namespace: NameSchema.optional() }).default({})).query(async ({ ctx, input }) => {
    const [services, endpoints] = await Promise.all([ctx.store.list({ kind: "Service", ...input }) as Promise<Service[]>, ctx.endpoints.list(input)]);
    const counts = new Map<string, number>();
    for (const e of endpoints) counts.set(`${e.namespace}/${e.service}`, (counts.get(`${e.namespace}/${e.service}`) ?? 0) + 1);
    return services.map((s) => ({ ...s, endpoints: counts.get(`${s.metadata.namespace}/${s.metadata.name}`) ?? 0 }));
  }),
  /** Live endpoints (proxies that said hello), optionally of one namespace or service. */
  endpoints: viewerProcedure.input(Filter).query(({ ctx, input }) => ctx.endpoints.list(input)),
});

export const proxiesRouter = router({
  /** SYNCED / STALE / NACKED per proxy, like `istioctl proxy-status`. */
  status: viewerProcedure.input(Filter).query(async ({ ctx, input }) => {
    const [rows, certs] = await Promise.all([ctx.proxies.status(input), ctx.ca.certificates.byProxy()]);
    // The certificate the CA last issued to each proxy (null: plaintext, or not joined to the CA).
    return rows.map((r) => {
      const c = certs.get(r.proxyId);
      return { ...r, certificate: c ? { spiffeId: c.spiffeId, notAfter: c.notAfter, issuedAt: c.issuedAt } : null };
    });
  }),
});
