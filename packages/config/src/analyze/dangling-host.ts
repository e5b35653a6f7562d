import type { Resource } from "../resource";
import { finding, p } from "./finding";
import { resolveHost } from "./hosts";
import { indexMesh } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const DANGLING_HOST = "TRELLIS_DANGLING_HOST";

/**
 * Hosts named outside routing — a DestinationPolicy's host, a Service's egress hosts — that
 * are neither a Service nor a ServiceEntry host: the setting has no effect. A warning, as
 * nothing breaks yet; a Route to such a host is unknownHost's error.
 */
export const danglingHost: Analyzer = (resources) => {
  const mesh = indexMesh(resources);
  const check = (r: Resource, host: string, path: (string | number)[], effect: string): Finding[] => {
    if (resolveHost(host, r.metadata.namespace, mesh)) return [];
    return [finding(DANGLING_HOST, "warning", r, path, `host '${host}' at ${p(...path)} is neither a Service nor a ServiceEntry host, so ${effect}; fix the name or add the Service or ServiceEntry`)];
  };
  return resources.flatMap((r) => {
    if (r.kind === "DestinationPolicy") return check(r, r.spec.host, ["spec", "host"], "this policy applies to nothing");
    if (r.kind === "Service") return (r.spec.egress ?? []).flatMap((h, i) => check(r, h, ["spec", "egress", i], "the egress entry admits nothing"));
    return [];
  });
};
