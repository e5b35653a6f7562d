// @trellis/proxy's public entry: what the demo launcher and tests of other packages may use.
export { DataPlane } from "./proxy";
export type { DataPlaneOptions } from "./proxy";
export { startSidecar, PROXY_VERSION } from "./sidecar";
export type { Sidecar } from "./sidecar";
export { parseProxyArgs, USAGE } from "./args";
export type { ProxyOptions } from "./args";
export { PROXY_NODE_FLAGS } from "./node-flags";
