import { randomBytes } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import { HostSchema, LabelsSchema, NameSchema } from "@trellis/config";
import { z } from "zod";

/**
 * trellis-proxy's options: command-line flags and TRELLIS_PROXY_* environment variables (a
 * flag wins over its variable), validated into one ProxyOptions object. This is the only
 * place the proxy reads process.env. A bad value is an ArgsError naming the flag (or the
 * variable it came from) and what would be right.
 */

const PORT_OR_ZERO = "must be a port number, 0 to 65535 (0 = any free port)";
const PORT = "must be a port number, 1 to 65535";
const GROWTH = "must be a whole number of percent, 0 to 400 (0: V8's own growth)";

/** A listener port: 0 lets the OS pick one (tests), so the bound port must be read back. */
const ListenPortSchema = z.number().int(PORT_OR_ZERO).min(0, PORT_OR_ZERO).max(65535, PORT_OR_ZERO);
/** A port the proxy connects to. */
const ConnectPortSchema = z.number().int(PORT).min(1, PORT).max(65535, PORT);
/** A host name or IP address (IPv6 without brackets), as advertised or bound. */
const AddressSchema = z.string().min(1, "must not be empty").max(253, "must be at most 253 characters").regex(/^[A-Za-z0-9.:_-]+$/, "must be a host name or an IP address such as 10.0.0.7");

/** A plain TCP listener on the outbound side that forwards every connection to one mesh TCP service. */
export const TcpForwardSchema = z
  .object({
    /** Local port the app connects to (0 = any free port). */
    localPort: ListenPortSchema,
    /** The mesh host to forward to, e.g. `postgres.data`. */
    host: HostSchema,
    /** The service port on that host. */
    port: ConnectPortSchema,
  })
  .strict();
export type TcpForward = z.infer<typeof TcpForwardSchema>;

export const ProxyOptionsSchema = z
  .object({
    /** `sidecar` fronts one local app; `gateway` runs the Gateways selecting its Service and has no local app. */
    mode: z.enum(["sidecar", "gateway"], { message: "must be sidecar or gateway" }),
    /** The Service the workload belongs to (a DNS-1123 label). */
    service: NameSchema,
    /** The workload's namespace. */
    namespace: NameSchema,
    /** The workload (instance) name, unique in its namespace; the proxy's id is `namespace/workload`. */
    workload: z
      .string()
      .min(1, "must not be empty")
      .max(253, "must be at most 253 characters")
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.'"),
    /** Workload labels, `version` included when --version is given; subsets and policy selectors match on them. */
    labels: LabelsSchema,
    /** The port the local app listens on (on 127.0.0.1); required for a sidecar. */
    appPort: ConnectPortSchema.optional(),
    /** The local app's protocol on appPort. */
    appProtocol: z.enum(["http", "http2", "grpc", "tcp"], { message: "must be one of http, http2, grpc, tcp" }),
    /** The single inbound listener (mesh traffic from peer proxies, HTTP/2); sent in Hello so peers dial it. */
    inboundPort: ListenPortSchema,
    /** The outbound listener the local app sends through (HTTP proxy, CONNECT for TCP). */
    outboundPort: ListenPortSchema,
    /** The admin server: /ready, /metrics, /config_dump, /clusters, /stats. */
    adminPort: ListenPortSchema,
    /** The control plane's config stream, `host:port`. */
    controlPlane: z.string().refine((t) => {
      const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(t);
      return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
    }, "must be host:port with a port 1 to 65535, e.g. 127.0.0.1:15010"),
    /** Where the last good snapshot is kept across restarts. */
    dataDir: z.string().min(1, "must not be empty"),
    /** Where other proxies reach this proxy's inbound side (advertised in Hello). */
    address: AddressSchema,
    /** The host every listener binds to. */
    bind: AddressSchema,
    /**
     * The host the outbound listener (and TCP forwards) bind to, default 127.0.0.1 whatever
     * --bind says: they act for the local app, and open on a shared network they would let
     * any caller pass for this workload.
     */
    outboundBind: AddressSchema,
    logLevel: z.enum(["debug", "info", "warn", "error"], { message: "must be one of debug, info, warn, error" }),
    /** Plain TCP forwards for apps that cannot use HTTP CONNECT, by local port. */
    tcpForward: z.array(TcpForwardSchema),
    /**
     * Where spans are exported, OTLP/HTTP protobuf: the control plane's `/v1/traces` or any
     * OpenTelemetry collector's; `off` records no spans (trace headers still pass through).
     */
    otlpEndpoint: z.string().refine((u) => u === "off" || isHttpUrl(u), "must be an http:// or https:// URL such as http://127.0.0.1:4318/v1/traces, or off"),
    /**
     * The mesh's trust anchors (a PEM file, `ca.bundle` of the control plane). Set: the proxy
     * has a mesh identity, and talks to the control plane's TLS port (--control-plane) with it.
     */
    caBundle: z.string().min(1, "must be a file path").optional(),
    /** A join token (`<id>.<secret>`) for the first certificate; a valid one stored in the data directory makes it unnecessary. */
    joinToken: z.string().regex(/^[0-9a-f]{16}\.[A-Za-z0-9_-]+$/, "must be <id>.<secret> as ca.joinTokens.create returned it").optional(),
    /** A file holding the join token (kept out of the process arguments, which other users can list); read when a certificate is needed. */
    joinTokenFile: z.string().min(1, "must be a file path").optional(),
    /** V8's old-generation growth past the last full GC, % (node-flags.ts tuneProxyHeap); unset: V8's own. */
    heapGrowthPercent: z.number().int(GROWTH).min(0, GROWTH).max(400, GROWTH).optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.mode === "sidecar" && o.appPort === undefined) ctx.addIssue({ code: "custom", path: ["appPort"], message: "is required for a sidecar: the port the local app listens on (or run with --mode gateway)" });
    const taken = new Map<number, string>();
    const claim = (port: number, what: string, at: PropertyKey[]) => {
      if (port === 0) return;
      const other = taken.get(port);
      if (other) ctx.addIssue({ code: "custom", path: at, message: `port ${port} is already used by ${other}; give each listener its own port` });
      else taken.set(port, what);
    };
    if (o.joinToken && !o.caBundle) ctx.addIssue({ code: "custom", path: ["joinToken"], message: "needs --ca-bundle: the roots the proxy checks the control plane's certificate with" });
    if (o.joinTokenFile && !o.caBundle) ctx.addIssue({ code: "custom", path: ["joinTokenFile"], message: "needs --ca-bundle: the roots the proxy checks the control plane's certificate with" });
    if (o.joinToken && o.joinTokenFile) ctx.addIssue({ code: "custom", path: ["joinTokenFile"], message: "give --join-token or --join-token-file, not both" });
    claim(o.adminPort, "--admin-port", ["adminPort"]);
    claim(o.inboundPort, "--inbound-port", ["inboundPort"]);
    claim(o.outboundPort, "--outbound-port", ["outboundPort"]);
    o.tcpForward.forEach((f, i) => claim(f.localPort, `--tcp-forward ${f.localPort}=…`, ["tcpForward", i]));
  });
export type ProxyOptions = z.infer<typeof ProxyOptionsSchema>;

/** A bad flag or variable; the message names it and says what would be right. */
export class ArgsError extends Error {
  readonly code = "TRELLIS_INVALID_ARGS";
  override get name(): string {
    return "ArgsError";
  }
}

/** Option name → flag, env variable, and whether it repeats. */
const OPTIONS = {
  mode: { flag: "mode", env: "TRELLIS_PROXY_MODE" },
  service: { flag: "service", env: "TRELLIS_PROXY_SERVICE" },
  namespace: { flag: "namespace", env: "TRELLIS_PROXY_NAMESPACE" },
  workload: { flag: "workload", env: "TRELLIS_PROXY_WORKLOAD" },
  version: { flag: "version", env: "TRELLIS_PROXY_VERSION" },
  label: { flag: "label", env: "TRELLIS_PROXY_LABELS", multiple: true },
  appPort: { flag: "app-port", env: "TRELLIS_PROXY_APP_PORT" },
  appProtocol: { flag: "app-protocol", env: "TRELLIS_PROXY_APP_PROTOCOL" },
  inboundPort: { flag: "inbound-port", env: "TRELLIS_PROXY_INBOUND_PORT" },
  outboundPort: { flag: "outbound-port", env: "TRELLIS_PROXY_OUTBOUND_PORT" },
  adminPort: { flag: "admin-port", env: "TRELLIS_PROXY_ADMIN_PORT" },
  controlPlane: { flag: "control-plane", env: "TRELLIS_PROXY_CONTROL_PLANE" },
  dataDir: { flag: "data-dir", env: "TRELLIS_PROXY_DATA_DIR" },
  address: { flag: "address", env: "TRELLIS_PROXY_ADDRESS" },
  bind: { flag: "bind", env: "TRELLIS_PROXY_BIND" },
  outboundBind: { flag: "outbound-bind", env: "TRELLIS_PROXY_OUTBOUND_BIND" },
  logLevel: { flag: "log-level", env: "TRELLIS_PROXY_LOG_LEVEL" },
  tcpForward: { flag: "tcp-forward", env: "TRELLIS_PROXY_TCP_FORWARD", multiple: true },
  otlpEndpoint: { flag: "otlp-endpoint", env: "TRELLIS_PROXY_OTLP_ENDPOINT" },
  caBundle: { flag: "ca-bundle", env: "TRELLIS_PROXY_CA_BUNDLE" },
  joinToken: { flag: "join-token", env: "TRELLIS_PROXY_JOIN_TOKEN" },
  joinTokenFile: { flag: "join-token-file", env: "TRELLIS_PROXY_JOIN_TOKEN_FILE" },
  heapGrowthPercent: { flag: "heap-growth-percent", env: "TRELLIS_PROXY_HEAP_GROWTH_PERCENT" },
} as const satisfies Record<string, { flag: string; env: string; multiple?: boolean }>;
type OptionName = keyof typeof OPTIONS;

export const USAGE = `usage: trellis-proxy --service NAME --app-port PORT [options]

  --service NAME             Service the workload belongs to (required)
  --namespace NAME           namespace (default: default)
  --workload NAME            instance name (default: <service>-<5 random hex digits>)
  --version V                sets the label version=V
  --label KEY=VALUE          workload label (repeatable)
  --mode sidecar|gateway     gateway: no local app, serves the Gateways selecting the Service (default: sidecar)
  --app-port PORT            port of the local app on 127.0.0.1 (required for a sidecar)
  --app-protocol P           http | http2 | grpc | tcp (default: http)
  --inbound-port PORT        mesh inbound listener (default: 15006; 0 = any free port)
  --outbound-port PORT       outbound listener for the local app (default: 15001)
  --admin-port PORT          admin server (default: 15000)
  --control-plane HOST:PORT  config stream (default: 127.0.0.1:15010)
  --data-dir DIR             last good snapshot (default: .data/proxy/<namespace>-<workload>)
  --address HOST             where other proxies reach this one (default: 127.0.0.1)
  --bind HOST                host the inbound, gateway and admin listeners bind to (default: 127.0.0.1)
  --outbound-bind HOST       host the outbound listener and TCP forwards bind to (default: 127.0.0.1;
                             they act for the local app, so keep them off shared networks)
  --log-level L              debug | info | warn | error (default: info)
  --tcp-forward PORT=HOST:P  plain TCP listener on PORT forwarding to mesh TCP service HOST:P (repeatable)
  --otlp-endpoint URL|off    where spans go, OTLP/HTTP (default: the control plane's API,
                             http://<control-plane host>:15080/v1/traces); off: no spans
  --ca-bundle FILE           the mesh's trust anchors (PEM, the control plane's ca.bundle): the proxy gets a
                             workload certificate and uses the control plane's TLS port (--control-plane HOST:15012)
  --join-token TOKEN         <id>.<secret> for the first certificate (kept 0600 in --data-dir/identity afterwards)
  --join-token-file FILE     the same, read from FILE (keeps the secret out of the process list)
  --heap-growth-percent N    V8 heap growth past the last full GC, 0-400 % (default: V8's own); 25 halves the
                             RSS under load but doubles the pair's p99 at 1000 rps (bench/proxy)
  -h, --help                 this text

Every option can also be set as TRELLIS_PROXY_<NAME> (e.g. TRELLIS_PROXY_APP_PORT); list
options (TRELLIS_PROXY_LABELS, TRELLIS_PROXY_TCP_FORWARD) are comma-separated. Flags win.`;

const parseConfig = {
  options: {
    ...Object.fromEntries(Object.values(OPTIONS).map((o) => [o.flag, { type: "string" as const, multiple: "multiple" in o }])),
    help: { type: "boolean" as const, short: "h" },
  },
  allowPositionals: false,
  strict: true,
};

function isHttpUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return (url.protocol === "http:" || url.protocol === "https:") && url.host !== "";
  } catch {
    return false;
  }
}

/** The control plane's API port when it runs with its defaults (TRELLIS_API_PORT). */
const CONTROL_API_PORT = 15080;

/** The control plane's OTLP receiver on the host of its config stream (`host:port`, IPv6 in brackets). */
export function defaultOtlpEndpoint(controlPlane: string): string {
  const host = controlPlane.slice(0, Math.max(controlPlane.lastIndexOf(":"), 0)) || "127.0.0.1";
  return `http://${host}:${CONTROL_API_PORT}/v1/traces`;
}

/** Whether the command line asks for USAGE (checked before parsing, so --help works with bad options). */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

/**
 * Parses flags (`argv` without node and the script) and TRELLIS_PROXY_* variables from `env`
 * into validated options; throws an ArgsError listing every bad value. `random` makes the
 * default workload name deterministic in tests.
 */
export function parseProxyArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}, random: () => string = () => randomBytes(3).toString("hex").slice(0, 5)): ProxyOptions {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    values = parseArgs({ ...parseConfig, args: [...argv] }).values;
  } catch (err) {
    throw new ArgsError(`${(err as Error).message.split("\n")[0]}; see --help`);
  }

  // Where each option's value came from, so an error names the flag or the variable.
  const source = new Map<OptionName, string>();
  const single = (name: OptionName): string | undefined => {
    const o = OPTIONS[name];
    const flag = values[o.flag];
    if (typeof flag === "string") return source.set(name, `--${o.flag}`), flag;
    const fromEnv = env[o.env];
    if (fromEnv !== undefined && fromEnv !== "") return source.set(name, o.env), fromEnv;
    return undefined;
  };
  // A repeatable option: the variable's comma-separated items, then the flags (later wins per key).
  const list = (name: OptionName): { value: string; from: string }[] => {
    const o = OPTIONS[name];
    const fromEnv = (env[o.env] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "").map((value) => ({ value, from: o.env }));
    const flags = values[o.flag];
    return [...fromEnv, ...(Array.isArray(flags) ? flags : []).map((value) => ({ value, from: `--${o.flag}` }))];
  };

  const problems: string[] = [];
  const bad = (from: string, got: string, what: string) => problems.push(`${from} ${JSON.stringify(got)}: ${what}`);
  const port = (name: OptionName, fallback: number | undefined, what: string): number | undefined => {
    const v = single(name);
    if (v === undefined) return fallback;
    if (/^\d{1,5}$/.test(v)) return Number(v); // the range is zod's to check
    bad(source.get(name)!, v, what);
    return fallback;
  };

  const labels: Record<string, string> = {};
  for (const { value, from } of list("label")) {
    const eq = value.indexOf("=");
    if (eq <= 0) bad(from, value, "expected KEY=VALUE, e.g. version=v2");
    else labels[value.slice(0, eq)] = value.slice(eq + 1);
  }
  const version = single("version");
  if (version !== undefined) {
    if (labels.version !== undefined && labels.version !== version) bad(source.get("version")!, version, `conflicts with the label version=${labels.version}; give only one of them`);
    labels.version = version;
  }

  // Keyed by local port: a flag replaces the variable's forward on the same port.
  const forwards = new Map<string, { raw: { localPort: number | string; host: string; port: number | string }; text: string; from: string }>();
  for (const { value, from } of list("tcpForward")) {
    const m = /^([^=]+)=(.+):([^:]+)$/.exec(value);
    if (!m) {
      bad(from, value, "expected LOCALPORT=HOST:PORT, e.g. 15432=postgres.data:5432");
      continue;
    }
    const num = (s: string) => (/^\d{1,5}$/.test(s) ? Number(s) : s);
    forwards.set(m[1]!, { raw: { localPort: num(m[1]!), host: m[2]!, port: num(m[3]!) }, text: value, from });
  }
  const tcpForwards = [...forwards.values()];

  const service = single("service");
  if (service === undefined) problems.push(`--service (or ${OPTIONS.service.env}) is required: the Service this workload belongs to`);
  const namespace = single("namespace") ?? "default";
  const workload = single("workload") ?? `${service ?? "proxy"}-${random()}`;
  const raw = {
    mode: single("mode") ?? "sidecar",
    service,
    namespace,
    workload,
    labels,
    appPort: port("appPort", undefined, PORT),
    appProtocol: single("appProtocol") ?? "http",
    inboundPort: port("inboundPort", 15006, PORT_OR_ZERO),
    outboundPort: port("outboundPort", 15001, PORT_OR_ZERO),
    adminPort: port("adminPort", 15000, PORT_OR_ZERO),
    controlPlane: single("controlPlane") ?? "127.0.0.1:15010",
    dataDir: path.resolve(single("dataDir") ?? path.join(".data", "proxy", `${namespace}-${workload}`)),
    address: single("address") ?? "127.0.0.1",
    bind: single("bind") ?? "127.0.0.1",
    outboundBind: single("outboundBind") ?? "127.0.0.1",
    logLevel: single("logLevel") ?? "info",
    tcpForward: tcpForwards.map((f) => f.raw),
    otlpEndpoint: single("otlpEndpoint") ?? defaultOtlpEndpoint(single("controlPlane") ?? "127.0.0.1:15010"),
    ...(single("caBundle") === undefined ? {} : { caBundle: single("caBundle") }),
    ...(single("joinToken") === undefined ? {} : { joinToken: single("joinToken") }),
    ...(single("joinTokenFile") === undefined ? {} : { joinTokenFile: single("joinTokenFile") }),
    ...(single("heapGrowthPercent") === undefined ? {} : { heapGrowthPercent: port("heapGrowthPercent", undefined, GROWTH) }),
  };

  const r = ProxyOptionsSchema.safeParse(raw);
  if (r.success && problems.length === 0) return r.data;
  for (const issue of r.success ? [] : r.error.issues) {
    const [key, sub] = issue.path;
    // A bad record key (a label) carries the key schema's own message inside.
    const message = issue.code === "invalid_key" ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    if (key === "service" && service === undefined) continue; // reported above
    if (key === "workload" && !source.has("workload")) continue; // derived from a bad --service, reported there
    if (key === "appPort" && source.has("appPort") && raw.appPort === undefined) continue; // not a number, reported above
    if (key === "labels") {
      const label = String(sub);
      const from = label === "version" && version !== undefined ? source.get("version")! : (list("label").find((l) => l.value.startsWith(`${label}=`))?.from ?? "--label");
      problems.push(`${from} ${JSON.stringify(label)}: ${message}`);
    } else if (key === "tcpForward") {
      const f = tcpForwards[Number(sub)];
      const field = issue.path.slice(2).join(".");
      problems.push(`${f?.from ?? "--tcp-forward"} ${JSON.stringify(f?.text ?? "")}: ${field ? `${field} ` : ""}${message}`);
    } else {
      const name = key as OptionName;
      const from = source.get(name);
      // A join token is a secret: name where it came from, never its value.
      const shown = name === "joinToken" ? "" : ` ${JSON.stringify(String(raw[name as keyof typeof raw]))}`;
      problems.push(from ? `${from}${shown}: ${message}` : `--${OPTIONS[name].flag}: ${message}`);
    }
  }
  throw new ArgsError(`invalid options: ${problems.join("; ")}`);
}
