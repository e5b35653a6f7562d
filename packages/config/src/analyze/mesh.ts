import { resourceKey } from "../resource";
import type { Resource, ResourceKind, ResourceOfKind, Service } from "../resource";
import { buildHostIndex } from "./hosts";
import type { HostIndex } from "./hosts";

/** The resources of one kind, in the order given. */
export function ofKind<K extends ResourceKind>(resources: readonly Resource[], kind: K): ResourceOfKind<K>[] {
  return resources.filter((r): r is ResourceOfKind<K> => r.kind === kind);
}

/** The resources of one kind ordered by resource key, so "the later one" is stable across runs. */
export function sortedOfKind<K extends ResourceKind>(resources: readonly Resource[], kind: K): ResourceOfKind<K>[] {
  return ofKind(resources, kind).sort((a, b) => (resourceKey(a) < resourceKey(b) ? -1 : resourceKey(a) > resourceKey(b) ? 1 : 0));
}

/** Every namespace in which at least one resource exists. */
export function knownNamespaces(resources: readonly Resource[]): Set<string> {
  return new Set(resources.map((r) => r.metadata.namespace));
}

/** Host index plus the lookups most analyzers need. */
export interface Mesh extends HostIndex {
  resources: readonly Resource[];
  service(namespace: string, name: string): Service | undefined;
}

export function indexMesh(resources: readonly Resource[]): Mesh {
  const index = buildHostIndex(resources);
  return { ...index, resources, service: (namespace, name) => index.services.get(`${namespace}/${name}`) };
}

/** Names a list for a message: `'a', 'b' and 'c'`. */
export function listNames(names: readonly string[]): string {
  const q = names.map((n) => `'${n}'`);
  return q.length <= 1 ? (q[0] ?? "") : `${q.slice(0, -1).join(", ")} and ${q[q.length - 1]}`;
}
