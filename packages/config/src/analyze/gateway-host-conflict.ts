import { resourceKey } from "../resource";
import { finding } from "./finding";
import { sortedOfKind } from "./mesh";
import type { Analyzer, Finding } from "./types";

export const GATEWAY_HOST_CONFLICT = "TRELLIS_GATEWAY_HOST_CONFLICT";

/**
 * Two servers run by the same gateway proxies (same selector service — by name, in any
 * namespace, as the snapshot compiler selects gateway proxies) on the same port
 * cannot both serve one host: the listener would pick one arbitrarily (and with TLS, one
 * certificate). The later server in resource-key order is reported, naming the first.
 */
export const gatewayHostConflict: Analyzer = (resources) => {
  const claimed = new Map<string, string>();
  const out: Finding[] = [];
  for (const gw of sortedOfKind(resources, "Gateway")) {
    const proxies = gw.spec.selector.service;
    gw.spec.servers.forEach((server, s) => {
      server.hosts.forEach((host, h) => {
        const key = `${proxies} ${server.port.number} ${host}`;
        const here = `${resourceKey(gw)} spec.servers[${s}].hosts[${h}]`;
        const other = claimed.get(key);
        if (other === undefined) return void claimed.set(key, here);
        out.push(
          finding(GATEWAY_HOST_CONFLICT, "error", gw, ["spec", "servers", s, "hosts", h],
            `host '${host}' on port ${server.port.number} of the gateway proxies of service ${proxies} is already served by ${other}; serve each host once per port (merge the servers or use another port)`),
        );
      });
    });
  }
  return out;
};
