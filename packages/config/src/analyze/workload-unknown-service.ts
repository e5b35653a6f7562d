import { finding } from "./finding";
import { indexMesh, ofKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const WORKLOAD_UNKNOWN_SERVICE = "TRELLIS_WORKLOAD_UNKNOWN_SERVICE";

/** A Workload of a Service that does not exist has no ports, no routes and no callers. */
export const workloadUnknownService: Analyzer = (resources) => {
  const mesh = indexMesh(resources);
  return ofKind(resources, "Workload").flatMap((w): Finding[] => {
    const ns = w.metadata.namespace;
    if (mesh.service(ns, w.spec.service)) return [];
    return [finding(WORKLOAD_UNKNOWN_SERVICE, "error", w, ["spec", "service"], `spec.service names Service ${ns}/${w.spec.service}, which does not exist; create the Service or name one of namespace ${ns}`)];
  });
};
