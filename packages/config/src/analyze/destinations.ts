import type { Route } from "../resource";
import type { Destination } from "../resources/route";

/** One destination a Route sends traffic to, with the path of its `destination` field. */
export interface DestinationAt {
  destination: Destination;
  path: (string | number)[];
}

/** Every destination of a Route: http and tcp route entries and http mirrors, in order. */
export function routeDestinations(route: Route): DestinationAt[] {
  const out: DestinationAt[] = [];
  (route.spec.http ?? []).forEach((rule, i) => {
    rule.route.forEach((d, j) => out.push({ destination: d.destination, path: ["spec", "http", i, "route", j, "destination"] }));
    if (rule.mirror) out.push({ destination: rule.mirror.destination, path: ["spec", "http", i, "mirror", "destination"] });
  });
  (route.spec.tcp ?? []).forEach((rule, i) => {
    rule.route.forEach((d, j) => out.push({ destination: d.destination, path: ["spec", "tcp", i, "route", j, "destination"] }));
  });
  return out;
}
