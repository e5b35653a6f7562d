import { createRequire } from "node:module";
import type { Dispatcher, Pool as UndiciPool } from "undici";

/**
 * undici's Pool and its `request` API from their own module files, not the package index: the
 * index loads all of undici (fetch, WebSocket, caches, EventSource) and, through them, Node's
 * bundled copy of undici too — ~3.6 MB of live heap and ~15 MB of RSS in every sidecar for a
 * Pool. The index also mixes the API into Dispatcher.prototype; here `request` is called on the
 * pool instead (`request.call(pool, opts)`). undici-modules.test.ts checks both are what the
 * index exports, so an undici that moves them fails a test.
 */
const requireUndici = createRequire(import.meta.url);

export const Pool = requireUndici("undici/lib/dispatcher/pool.js") as typeof UndiciPool;
export const request = requireUndici("undici/lib/api/api-request.js") as (this: Dispatcher, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
