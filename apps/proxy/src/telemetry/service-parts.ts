const FQDN = /^([^.]+)\.([^.]+)\.svc(?:\.cluster\.local)?$/;

/** `[name, namespace]` of a destination host: `reviews.default` (canonical) or its `.svc[.cluster.local]` forms. */
export function serviceParts(host: string): [string, string] {
  const dot = host.indexOf(".");
  if (dot > 0 && dot < host.length - 1 && host.indexOf(".", dot + 1) === -1) return [host.slice(0, dot), host.slice(dot + 1)];
  const m = FQDN.exec(host);
  return m ? [m[1]!, m[2]!] : [host, "unknown"];
}
