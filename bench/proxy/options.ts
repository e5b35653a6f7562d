import { parseArgs } from "node:util";
import { PROXY_NODE_FLAGS } from "@trellis/proxy/node-flags";

/**
 * Every target the benchmark knows, in report order. `floor`, `floor-pair` and `relay` are the
 * Node floor (node-floor.mjs): what Node's own HTTP modules, and a bare socket relay, reach on
 * this machine with none of a sidecar's work, so the report can say which targets are beyond
 * any proxy on Node's HTTP stack here.
 */
export const TARGET_IDS = ["direct", "single", "pair", "pair-mtls", "nginx", "node", "floor", "floor-pair", "relay"] as const;
export type TargetId = (typeof TARGET_IDS)[number];

/** The runs per target: fixed rate (latency, CPU), wrk (HTTP/1.1 saturation), h2load (HTTP/2 saturation). */
export const PHASES = ["fixed", "h1", "h2"] as const;
export type Phase = (typeof PHASES)[number];

export interface Options {
  /** Rounds of every run against every target, interleaved (each round runs all targets in turn); figures are the rounds' medians. */
  rounds: number;
  /** Seconds of each saturation run (wrk, h2load), per round. */
  saturationS: number;
  /** Measured seconds at the fixed rate. */
  fixedS: number;
  /** Unmeasured seconds before: a wrk run at saturation, and the fixed rate itself. */
  warmupS: number;
  /** The fixed request rate for latency and CPU, requests/s. */
  rate: number;
  /** wrk connections. */
  connections: number;
  /** h2load connections and concurrent streams per connection. */
  h2Connections: number;
  h2Streams: number;
  /** Keep-alive connections the fixed-rate generator opens up front (it opens more when all are busy). */
  fixedConnections: number;
  targets: TargetId[];
  /** Which runs to make per target (a profile of one kind of load needs only that one). */
  phases: Phase[];
  /** Trace sampling rates (%) for the tracing-cost runs on the sidecar pair; empty = none. */
  tracing: number[];
  /** How many times the tracing rates run, round-robin. */
  tracingRounds: number;
  /** Plaintext/mTLS fixed-rate rounds on the two pairs (needs targets pair and pair-mtls); 0 = none. */
  mtlsRounds: number;
  /** Seconds of new mTLS connections against the mTLS server sidecar; 0 = none. */
  handshakeS: number;
  /** Handshakes in flight at once. */
  handshakeConcurrency: number;
  /** Where the proxies export spans: a null OTLP sink (their cost only) or the control plane (stored, on the same CPUs). */
  otlp: "sink" | "control-plane";
  /** bundle: apps/proxy/dist/main.mjs (production); tsx: the TypeScript sources. */
  proxyRuntime: "bundle" | "tsx";
  /** Extra node flags for every trellis-proxy (experiments: GC sizing and the like). */
  proxyNodeArgs: string[];
  /** When set, each trellis-proxy's stdout goes to a file there instead of /dev/null (diagnosis only: files cost more). */
  proxyStdoutDir: string | undefined;
  /** When set, every trellis-proxy writes a V8 CPU profile there, summarised in the report. */
  cpuProfDir: string | undefined;
  /** Where the JSON report goes. */
  reportPath: string;
  json: boolean;
  timeoutMs: number;
  /** Before each round, wait up to this long for the machine to be quiet (other engineers' tests). */
  waitQuietS: number;
  quick: boolean;
}

export const USAGE = `usage: npm run bench:proxy -- [options]
  --rounds R            rounds of every run, targets interleaved within each round; the report takes the rounds'
                        medians (default 3; --quick 1): the machine's speed drifts, one run per target is luck
  --saturation-s S      seconds per saturation run and round, wrk and h2load (default 5; --quick 2)
  --fixed-s S           measured seconds at the fixed rate per round (default 6; --quick 3)
  --warmup-s S          unmeasured warm-up: wrk at saturation, then the fixed rate (default 3; --quick 1)
  --rate R              fixed request rate for latency and CPU (default 1000)
  --connections C       wrk connections (default 50)
  --h2-connections C    h2load connections (default 10)
  --h2-streams M        h2load concurrent streams per connection (default 10)
  --fixed-connections C keep-alive connections the fixed-rate generator opens first (default 8)
  --targets LIST        comma-separated subset of ${TARGET_IDS.join(",")} (default all; ratios need their pair)
  --phases LIST         comma-separated subset of ${PHASES.join(",")} (default all); --no-h2 = fixed,h1
  --tracing LIST        after the targets, the pair's fixed-rate run again at each trace sampling rate, in %
                        (e.g. 0,1,100: tracing off, Istio's default, everything), spans exported to the control plane
  --tracing-rounds R    run the --tracing rates round-robin R times; the report takes medians (default 3; --quick 1)
  --mtls-rounds R       with targets pair and pair-mtls: their fixed-rate runs again, alternating plaintext and mTLS
                        R times; the report takes medians (default 3; --quick 1; 0 = none)
  --handshake-s S       seconds of new mTLS connections (full handshakes) at the mTLS server sidecar (default 5;
                        --quick 2; 0 = none)
  --handshake-concurrency C  handshakes in flight (default 8)
  --otlp WHERE          where every trellis-proxy exports spans: sink (default: a null OTLP receiver, so the figures
                        are the proxies' own) or control-plane (its /v1/traces stores them, on the same two CPUs)
  --proxy-runtime R     bundle (default: apps/proxy/dist/main.mjs, built first) or tsx (the sources)
  --proxy-node-args=F   node flags for every trellis-proxy, space-separated (default: the production flags,
                        ${PROXY_NODE_FLAGS.join(" ")}; --proxy-node-args= for none)
  --proxy-stdout DIR    keep each trellis-proxy's stdout (access log, --trace-gc) in DIR/<name>.log instead of /dev/null
  --cpu-prof DIR        V8 CPU profiles of every trellis-proxy into DIR, top functions in the report
  --report FILE         JSON report (default .data/bench/proxy-report.json)
  --json                print the JSON report instead of the table
  --timeout-s SEC       overall limit (default 1200)
  --wait-quiet-s SEC    before each round, wait up to SEC for the machine to be < 15% busy (default 60; --quick 0)
  --quick               a short smoke run (2 s saturation, 3 s fixed rate, 1 s warm-up); targets are not judged`;

function num(name: string, v: string | undefined, def: number, min: number, integer = true): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be ${integer ? "an integer" : "a number"} ≥ ${min}, got '${v}'\n${USAGE}`);
  return n;
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: "string" },
      "saturation-s": { type: "string" },
      "fixed-s": { type: "string" },
      "warmup-s": { type: "string" },
      rate: { type: "string" },
      connections: { type: "string" },
      "h2-connections": { type: "string" },
      "h2-streams": { type: "string" },
      "fixed-connections": { type: "string" },
      targets: { type: "string" },
      "no-h2": { type: "boolean" },
      phases: { type: "string" },
      tracing: { type: "string" },
      "tracing-rounds": { type: "string" },
      "mtls-rounds": { type: "string" },
      "handshake-s": { type: "string" },
      "handshake-concurrency": { type: "string" },
      otlp: { type: "string" },
      "proxy-runtime": { type: "string" },
      "cpu-prof": { type: "string" },
      "proxy-node-args": { type: "string" },
      "proxy-stdout": { type: "string" },
      report: { type: "string" },
      json: { type: "boolean" },
      "timeout-s": { type: "string" },
      "wait-quiet-s": { type: "string" },
      quick: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const targets = (values.targets ?? TARGET_IDS.join(",")).split(",").map((t) => t.trim()).filter(Boolean);
  for (const t of targets) if (!(TARGET_IDS as readonly string[]).includes(t)) throw new Error(`--targets: unknown target '${t}'; known: ${TARGET_IDS.join(", ")}\n${USAGE}`);
  const phases = (values.phases ?? (values["no-h2"] ? "fixed,h1" : PHASES.join(","))).split(",").map((t) => t.trim()).filter(Boolean);
  for (const p of phases) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--phases: unknown phase '${p}'; known: ${PHASES.join(", ")}\n${USAGE}`);
  const tracing = (values.tracing ?? "").split(",").map((t) => t.trim()).filter(Boolean).map((t) => {
    const n = Number(t);
    if (!Number.isFinite(n) || n < 0 || n > 100) throw new Error(`--tracing: '${t}' is not a sampling rate from 0 to 100 (%)\n${USAGE}`);
    return n;
  });
  if (tracing.length > 0 && !targets.includes("pair")) throw new Error(`--tracing measures the sidecar pair: --targets must include pair\n${USAGE}`);
  const otlp = values.otlp ?? "sink";
  if (otlp !== "sink" && otlp !== "control-plane") throw new Error(`--otlp must be 'sink' or 'control-plane', got '${otlp}'\n${USAGE}`);
  const runtime = values["proxy-runtime"] ?? "bundle";
  if (runtime !== "bundle" && runtime !== "tsx") throw new Error(`--proxy-runtime must be 'bundle' or 'tsx', got '${runtime}'\n${USAGE}`);
  return {
    rounds: num("rounds", values.rounds, quick ? 1 : 3, 1),
    saturationS: num("saturation-s", values["saturation-s"], quick ? 2 : 5, 1),
    fixedS: num("fixed-s", values["fixed-s"], quick ? 3 : 6, 1),
    warmupS: num("warmup-s", values["warmup-s"], quick ? 1 : 3, 0),
    rate: num("rate", values.rate, 1000, 1),
    connections: num("connections", values.connections, 50, 1),
    h2Connections: num("h2-connections", values["h2-connections"], 10, 1),
    h2Streams: num("h2-streams", values["h2-streams"], 10, 1),
    fixedConnections: num("fixed-connections", values["fixed-connections"], 8, 1),
    targets: TARGET_IDS.filter((t) => targets.includes(t)),
    phases: PHASES.filter((p) => phases.includes(p)),
    tracing,
    otlp,
    tracingRounds: num("tracing-rounds", values["tracing-rounds"], quick ? 1 : 3, 1),
    mtlsRounds: targets.includes("pair") && targets.includes("pair-mtls") ? num("mtls-rounds", values["mtls-rounds"], quick ? 1 : 3, 0) : 0,
    handshakeS: targets.includes("pair-mtls") ? num("handshake-s", values["handshake-s"], quick ? 2 : 5, 0) : 0,
    handshakeConcurrency: num("handshake-concurrency", values["handshake-concurrency"], 8, 1),
    proxyRuntime: runtime,
    cpuProfDir: values["cpu-prof"],
    proxyNodeArgs: (values["proxy-node-args"] ?? PROXY_NODE_FLAGS.join(" ")).split(" ").filter(Boolean),
    proxyStdoutDir: values["proxy-stdout"],
    reportPath: values.report ?? ".data/bench/proxy-report.json",
    json: values.json ?? false,
    timeoutMs: num("timeout-s", values["timeout-s"], 1200, 1) * 1000,
    waitQuietS: num("wait-quiet-s", values["wait-quiet-s"], quick ? 0 : 60, 0),
    quick,
  };
}
