/**
 * nginx configurations for the benchmark (Debian's nginx, one worker, everything under a temp
 * prefix so nothing of the system's nginx is touched): the upstream app that answers a fixed
 * body, and the reverse-proxy peer in front of it. Pure text; nginx.ts runs them.
 */

export interface NginxCommon {
  /** The -p prefix: pid file, error log and temp paths live here. */
  prefix: string;
  /** HTTP/1.1 port. */
  h1Port: number;
  /** h2c (HTTP/2 with prior knowledge) port. */
  h2Port: number;
}

function main(c: NginxCommon, http: string[]): string {
  return [
    "worker_processes 1;",
    "daemon off;",
    `pid ${c.prefix}/nginx.pid;`,
    `error_log ${c.prefix}/error.log warn;`,
    "events { worker_connections 4096; }",
    "http {",
    // Connections are never recycled by request count (nginx's default is 1000), like the Node servers.
    "  keepalive_requests 1000000;",
    "  keepalive_timeout 75s;",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${c.prefix}/${t}_temp;`),
    ...http.map((l) => `  ${l}`),
    "}",
    "",
  ].join("\n");
}

/** The app: `200` with `body` (text/plain) on every path, HTTP/1.1 and h2c; no access log (it is not under test). */
export function appConfig(c: NginxCommon, body: string): string {
  if (/["\\$]/.test(body)) throw new Error("the app body must not contain quotes, backslashes or $ (it is an nginx string literal)");
  const location = `location / { default_type text/plain; return 200 "${body}"; }`;
  return main(c, ["access_log off;", `server { listen 127.0.0.1:${c.h1Port}; ${location} }`, `server { listen 127.0.0.1:${c.h2Port} http2; ${location} }`]);
}

/**
 * The nginx peer: a reverse proxy to the app over a keep-alive upstream pool (HTTP/1.1,
 * `Connection` cleared so upstream connections are reused). It writes an access log line per
 * request to /dev/null, buffered, as trellis-proxy writes its JSON access log to a stdout that
 * the benchmark points at /dev/null: both pay for formatting and writing their log.
 */
export function proxyConfig(c: NginxCommon, appPort: number, upstreamKeepalive: number): string {
  const location = 'location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }';
  return main(c, [
    "access_log /dev/null combined buffer=64k flush=1s;",
    `upstream app { server 127.0.0.1:${appPort}; keepalive ${upstreamKeepalive}; keepalive_requests 1000000; keepalive_timeout 60s; }`,
    `server { listen 127.0.0.1:${c.h1Port}; ${location} }`,
    `server { listen 127.0.0.1:${c.h2Port} http2; ${location} }`,
  ]);
}
