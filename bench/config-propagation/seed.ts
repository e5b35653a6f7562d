import type { ResourceInput } from "@trellis/config";
import type { AppRouter } from "@trellis/control/router";
import { createTRPCClient, httpLink } from "@trpc/client";
import { sessionFor } from "../../apps/control/test/helpers/test-auth";

/**
 * The benchmark's mesh: S services `svc-0 … svc-(S-1)` in namespace `default`, each with one
 * http port, a DestinationPolicy with subsets v1/v2 and a Route splitting 100/0 between them.
 * Every Service restricts its egress (Istio's Sidecar resource) to ~3 neighbours
 * `svc-(i-1..i-3)` plus the shared dependency `svc-0`, so an edit of svc-0's route reaches
 * every proxy while an edit of svc-k's route reaches only the proxies of svc-(k+1..k+3).
 */

export const NAMESPACE = "default";
export const PORT = { name: "http", port: 8080, protocol: "http" } as const;

export type Api = ReturnType<typeof apiClient>;

/** A typed tRPC client over HTTP, through the control plane's public router type. */
export function apiClient(baseUrl: string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/trpc`, headers: async () => ({ ...(await sessionFor(baseUrl, "admin")) }) })] });
}

export const serviceName = (i: number): string => `svc-${i}`;

/** The hosts svc-i may call. */
export function egressOf(i: number): string[] {
  const hosts = new Set<string>([serviceName(0)]);
  for (let d = 1; d <= 3; d++) if (i - d >= 0) hosts.add(serviceName(i - d));
  return [...hosts];
}

/** The route of svc-i sending `v1Weight`% to subset v1 and the rest to v2. */
export function routeOf(i: number, v1Weight: number): ResourceInput {
  const host = serviceName(i);
  return {
    kind: "Route",
    metadata: { name: host, namespace: NAMESPACE },
    spec: {
      hosts: [host],
      http: [{ route: [{ destination: { host, subset: "v1" }, weight: v1Weight }, { destination: { host, subset: "v2" }, weight: 100 - v1Weight }] }],
    },
  };
}

/** Service, DestinationPolicy and Route (100/0) of svc-i. */
export function resourcesOf(i: number): ResourceInput[] {
  const host = serviceName(i);
  return [
    { kind: "Service", metadata: { name: host, namespace: NAMESPACE }, spec: { ports: [{ ...PORT }], egress: egressOf(i) } },
    {
      kind: "DestinationPolicy",
      metadata: { name: host, namespace: NAMESPACE },
      spec: { host, subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] },
    },
    routeOf(i, 100),
  ];
}

/** Indices of the services whose proxies receive an edit of svc-k's route (those with svc-k in egress). */
export function callersOf(k: number, services: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < services; i++) if (egressOf(i).includes(serviceName(k))) out.push(i);
  return out;
}

/** Writes the mesh in chunks of `chunk` services (lower indices first, so egress never dangles); returns the head revision. */
export async function seed(api: Api, services: number, chunk = 500): Promise<number> {
  let head = await api.revisions.head.query();
  for (let start = 0; start < services; start += chunk) {
    const upserts: ResourceInput[] = [];
    for (let i = start; i < Math.min(services, start + chunk); i++) upserts.push(...resourcesOf(i));
    const res = await api.resources.write.mutate({ baseRevision: head, upserts, message: `bench seed: services ${start}..${start + chunk - 1}` });
    head = res.revision;
  }
  return head;
}

/** Replaces svc-k's route with a v1Weight/(100-v1Weight) split; returns the new revision. */
export async function setSplit(api: Api, baseRevision: number, k: number, v1Weight: number): Promise<number> {
  const res = await api.resources.write.mutate({ baseRevision, upserts: [routeOf(k, v1Weight)], message: `bench: ${serviceName(k)} ${v1Weight}/${100 - v1Weight}` });
  return res.revision;
}
