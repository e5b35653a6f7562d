/**
 * A small valid mesh for store tests: the reviews service with two subsets and a 90/10
 * canary route, plus builders that change one thing at a time.
 */
export const NS = "shop";

export function service(name: string, labels?: Record<string, string>) {
  return { kind: "Service", metadata: { name, namespace: NS, ...(labels ? { labels } : {}) }, spec: { ports: [{ name: "http", port: 9080, protocol: "http" }] } };
}

export function destinationPolicy(host = "reviews") {
  return {
    kind: "DestinationPolicy",
    metadata: { name: host, namespace: NS },
    spec: { host, subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] },
  };
}

/** A canary split of reviews between v1 and v2; weights must sum to 100 to pass analyze. */
export function canaryRoute(v1 = 90, v2 = 10) {
  return {
    kind: "Route",
    metadata: { name: "reviews", namespace: NS },
    spec: {
      hosts: ["reviews"],
      http: [
        {
          name: "canary",
          route: [
            { destination: { host: "reviews", subset: "v1" }, weight: v1 },
            { destination: { host: "reviews", subset: "v2" }, weight: v2 },
          ],
        },
      ],
    },
  };
}

/** The three resources of the base mesh. */
export function baseMesh() {
  return [service("reviews"), destinationPolicy(), canaryRoute()];
}
