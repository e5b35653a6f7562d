import { AsyncResource } from "node:async_hooks";

/**
 * Works around a Node.js cost on the HTTP/2 client path, measured in bench/proxy: every
 * `ClientHttp2Session.request()` calls `AsyncResource#bind`, which defines the deprecated
 * `asyncResource` accessor (DEP0172) on the bound function through `deprecate()` wrappers
 * that turn fresh functions into prototypes. Those land in old space and keep each request's
 * stream graph (and everything the proxy hangs on it) alive until the next mark-compact:
 * ~12 KB promoted per proxied request, a 4–6 ms mark-compact every ~1.5 s at 1000 rps, the
 * sidecar pair's p99. Without the accessor: ~2 KB per request.
 *
 * The replacement binds exactly as Node does (same async scope, `this` and `length`) minus
 * that deprecated property, which nothing in the proxy or its dependencies reads. It is
 * installed once, by the trellis-proxy process only (not by importing the library), and only
 * on a Node whose `bind` still defines the accessor.
 */
export function installRuntimeFixes(): { bindPatched: boolean } {
  const probe = new AsyncResource("trellis-probe").bind(() => undefined);
  if (!Object.getOwnPropertyDescriptor(probe, "asyncResource")) return { bindPatched: false };
  type AnyFn = (...args: unknown[]) => unknown;
  const proto = AsyncResource.prototype as unknown as { bind: (this: AsyncResource, fn: AnyFn, thisArg?: unknown) => AnyFn };
  proto.bind = function bind(fn, thisArg) {
    const resource = this;
    const bound: AnyFn =
      thisArg === undefined
        ? function (this: unknown, ...args: unknown[]) {
            return resource.runInAsyncScope(fn, this, ...args);
          }
        : resource.runInAsyncScope.bind(resource, fn, thisArg);
    Object.defineProperty(bound, "length", { value: fn.length, configurable: true, enumerable: false, writable: false });
    return bound;
  };
  return { bindPatched: true };
}
