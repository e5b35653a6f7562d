/**
 * Small numbers standing for the shared objects and strings a request's telemetry labels are
 * derived from (PeerInfo, RouteTarget and MatchedRoute objects are built once per snapshot or
 * peer and shared by every request; principals come from a few certificates). A key made of
 * them is a dozen characters: the metrics and live-delta caches look a request up by it, and
 * build the full label values (two dozen strings joined) only the first time a shape is seen.
 *
 * Ids are never reused, so a key never names two different shapes, however long the process
 * runs; objects are held weakly, strings in a map that starts afresh past MAX_STRINGS (their
 * old keys then simply miss).
 */
const objects = new WeakMap<object, number>();
const strings = new Map<string, number>();
const MAX_STRINGS = 10_000;
let next = 1;

/** The id of a shared object; 0 for none. */
export function objectId(o: object | undefined): number {
  if (o === undefined) return 0;
  let id = objects.get(o);
  if (id === undefined) objects.set(o, (id = next++));
  return id;
}

/** The id of a string; 0 for none. */
export function stringId(s: string | undefined): number {
  if (s === undefined) return 0;
  let id = strings.get(s);
  if (id === undefined) {
    if (strings.size >= MAX_STRINGS) strings.clear();
    strings.set(s, (id = next++));
  }
  return id;
}
