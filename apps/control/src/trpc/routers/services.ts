import { NameSchema, redactSecrets, type Service } from "@trellis/config";
import { TRPCError } from "@trpc/server";
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
  /**
   * One proxy's config dump: the snapshot the control plane would send it now (secrets
   * redacted; a snapshot holds none today, but the dump must never be the way one leaks) and
   * whether the proxy runs that very version — its last ACK — or something older.
   */
  configDump: viewerProcedure.input(z.object({ proxyId: z.string().min(3, "must be namespace/workload").max(300) })).query(async ({ ctx, input }) => {
    const [snapshot, statuses] = await Promise.all([ctx.proxies.configDump(input.proxyId), ctx.proxies.status({ namespace: input.proxyId.split("/")[0] })]);
    if (!snapshot) throw new TRPCError({ code: "NOT_FOUND", message: `no live proxy '${input.proxyId}': proxyId is namespace/workload of a connected sidecar` });
    const s = statuses.find((x) => x.proxyId === input.proxyId);
    const acked = s?.lastAckedVersion ?? null;
    return {
      proxyId: input.proxyId,
      version: snapshot.version,
      revision: snapshot.revision,
      ackedVersion: acked,
      state: s?.state ?? null,
      /** The proxy runs exactly this snapshot. */
      inSync: acked === snapshot.version,
      snapshot: redactSecrets(snapshot) as Record<string, unknown>,
    };
  }),
});
