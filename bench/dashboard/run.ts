/**
 * The dashboard's graph with 1000 nodes and 3000 edges in headless Chromium: how long until it
 * is interactive, and the frame time while panning (still, and while the live graph updates
 * every second), against cytoscape with its defaults as the peer, measured in the same run.
 *
 *   npm run bench:dashboard
 *   npm run bench:dashboard -- --nodes 2000 --edges 6000 --rounds 5 --json
 *
 * See README.md in this folder for what is measured and how.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { interactiveAt, summarize } from "./stats";
import type { FrameStats } from "./stats";

const here = path.dirname(fileURLToPath(import.meta.url));
const HELP = `npm run bench:dashboard -- [--nodes 1000] [--edges 3000] [--rounds 3] [--pan-s 3] [--seed 1] [--json]
  --nodes, --edges   size of the synthetic graph
  --rounds           rounds per contender (medians reported)
  --pan-s            seconds of panning per phase
  --chromium PATH    the browser (default /usr/bin/chromium, or CHROMIUM_PATH)
  --json             one JSON line with every figure instead of the table
Targets (the Trellis graph): interactive < 2000 ms, p95 interval between redraws while panning ≤ 33.4 ms (30 fps).`;

const { values: o } = parseArgs({
  options: {
    nodes: { type: "string", default: "1000" },
    edges: { type: "string", default: "3000" },
    rounds: { type: "string", default: "3" },
    "pan-s": { type: "string", default: "3" },
    seed: { type: "string", default: "1" },
    chromium: { type: "string", default: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (o.help) {
  console.log(HELP);
  process.exit(0);
}
const int = (name: string, v: string, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer ≥ ${min}, got '${v}'`);
    process.exit(2);
  }
  return n;
};
const NODES = int("nodes", o.nodes, 2);
const EDGES = int("edges", o.edges, 1);
const ROUNDS = int("rounds", o.rounds, 1);
const PAN_MS = int("pan-s", o["pan-s"], 1) * 1000;
const SEED = int("seed", o.seed, 0);
const TARGET_INTERACTIVE_MS = 2000;
const TARGET_FRAME_P95_MS = 33.4;

interface Round {
  firstFrameMs: number;
  interactiveMs: number;
  longestTaskMs: number;
  clickToSelectMs: number;
  pan: PanStats;
  livePan?: PanStats;
  updateMs?: number[];
}

const log = (...a: unknown[]) => {
  if (!o.json) console.error(...a);
};

async function bundle(dir: string): Promise<string> {
  await build({
    entryPoints: [path.join(here, "page.tsx")],
    bundle: true,
    minify: true,
    format: "esm",
    target: "chrome120",
    jsx: "automatic",
    outfile: path.join(dir, "page.js"),
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "error",
    // The component starts with "use client" (a Next.js directive): meaningless in a plain bundle.
    logOverride: { "unsupported-directive": "silent" },
  });
  return readFileSync(path.join(dir, "page.js"), "utf8");
}

function serve(js: string): Promise<http.Server> {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>loading</title><style>body{margin:0;font:14px system-ui}#root{width:1280px}</style></head><body><div id="root"></div><script type="module" src="/page.js"></script></body></html>`;
  const server = http.createServer((req, res) => {
    if (req.url === "/page.js") res.writeHead(200, { "content-type": "text/javascript" }).end(js);
    else res.writeHead(200, { "content-type": "text/html" }).end(html);
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

interface PanStats {
  /** The main thread's animation-frame cadence. */
  cadence: FrameStats;
  /** Intervals between the graph's actual redraws. */
  drawn: FrameStats;
}

interface PanStats {
  /** The main thread's animation-frame cadence. */
  cadence: FrameStats;
  /** Intervals between the graph's actual redraws. */
  drawn: FrameStats;
  /** Live updates applied meanwhile, ms each. */
  updates: number[];
}

/** Drags the view for PAN_MS (in the page, one move per frame), with a live update every second when `live`. */
async function drag(page: Page, variant: string, live: boolean): Promise<PanStats> {
  type D = { bench: { drag(ms: number, tick: number): Promise<{ frames: number[]; draws: number[]; updates: number[]; moved: boolean }> } };
  const r = await page.evaluate(([ms, tick]) => (globalThis as never as D).bench.drag(ms!, tick!), [PAN_MS, live ? 1000 : 0]);
  if (!r.moved) throw new Error(`${variant}: dragging did not pan the view`);
  return { cadence: summarize(r.frames), drawn: summarize(r.draws), updates: r.updates };
}

async function round(browser: Browser, url: string, variant: "trellis" | "peer"): Promise<Round> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as never as { document: { title: string } }).document.title === "ready");
    type B = { bench: { mount(v: string, n: number, e: number, s: number): Promise<{ firstFrameMs: number; nodes: number; edges: number }> } };
    const mounted = await page.evaluate(([v, n, e, s]) => (globalThis as never as B).bench.mount(v as string, n as number, e as number, s as number), [variant, NODES, EDGES, SEED] as const);
    if (mounted.nodes !== NODES || mounted.edges !== EDGES) throw new Error(`${variant} drew ${mounted.nodes} nodes and ${mounted.edges} edges, not ${NODES} and ${EDGES}`);
    // Long tasks settle: interactive is the end of the last one before a quiet half second.
    await page.waitForTimeout(1500);
    const tasks = await page.evaluate(() => (globalThis as never as { bench: { longTasks(): { start: number; end: number }[] } }).bench.longTasks());
    const interactiveMs = interactiveAt(mounted.firstFrameMs, tasks, 500);
    const target = await page.evaluate(() => (globalThis as never as { bench: { nodeToClick(): { id: string; x: number; y: number } } }).bench.nodeToClick());
    await page.mouse.click(target.x, target.y);
    await page.waitForFunction((id) => (globalThis as never as { bench: { selection(): { id?: string } } }).bench.selection().id === id, target.id, { timeout: 5000 });
    const sel = await page.evaluate(() => (globalThis as never as { bench: { selection(): { ms?: number } } }).bench.selection());
    const pan = await drag(page, variant, false);
    const r: Round = { firstFrameMs: mounted.firstFrameMs, interactiveMs, longestTaskMs: Math.max(0, ...tasks.map((t) => t.end - t.start)), clickToSelectMs: sel.ms ?? NaN, pan };
    if (variant === "trellis") {
      r.livePan = await drag(page, variant, true);
      r.updateMs = r.livePan.updates;
    }
    return r;
  } finally {
    await context.close();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "trellis-bench-dashboard-"));
  let browser: Browser | undefined;
  let server: http.Server | undefined;
  try {
    const js = await bundle(dir);
    server = await serve(js);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({ executablePath: o.chromium, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    log(`graph of ${NODES} nodes and ${EDGES} edges, ${ROUNDS} rounds per contender, ${PAN_MS / 1000} s of panning per phase, Chromium ${browser.version()}`);
    const results: Record<"trellis" | "peer", Round[]> = { trellis: [], peer: [] };
    for (let i = 0; i < ROUNDS; i++) {
      // Alternating, so neither contender always runs on a warmer machine.
      for (const v of i % 2 === 0 ? (["trellis", "peer"] as const) : (["peer", "trellis"] as const)) {
        const r = await round(browser, url, v);
        results[v].push(r);
        log(`  round ${i + 1} ${v.padEnd(7)} first frame ${r.firstFrameMs.toFixed(0)} ms, interactive ${r.interactiveMs.toFixed(0)} ms, pan p95 drawn frame ${r.pan.drawn.p95.toFixed(1)} ms (cadence ${r.pan.cadence.p95.toFixed(1)})${r.livePan ? `, live pan p95 ${r.livePan.drawn.p95.toFixed(1)} ms, update ${median(r.updateMs ?? []).toFixed(0)} ms` : ""}`);
      }
    }
    const agg = (rs: Round[]) => ({
      firstFrameMs: median(rs.map((r) => r.firstFrameMs)),
      interactiveMs: median(rs.map((r) => r.interactiveMs)),
      longestTaskMs: median(rs.map((r) => r.longestTaskMs)),
      clickToSelectMs: median(rs.map((r) => r.clickToSelectMs)),
      panP50: median(rs.map((r) => r.pan.drawn.p50)),
      panP95: median(rs.map((r) => r.pan.drawn.p95)),
      panMax: median(rs.map((r) => r.pan.drawn.max)),
      panFps: median(rs.map((r) => r.pan.drawn.fps)),
      cadenceP95: median(rs.map((r) => r.pan.cadence.p95)),
      livePanP95: rs[0]?.livePan ? median(rs.map((r) => r.livePan!.drawn.p95)) : null,
      livePanMax: rs[0]?.livePan ? median(rs.map((r) => r.livePan!.drawn.max)) : null,
      liveCadenceP95: rs[0]?.livePan ? median(rs.map((r) => r.livePan!.cadence.p95)) : null,
      updateMs: rs[0]?.updateMs ? median(rs.flatMap((r) => r.updateMs!)) : null,
    });
    const t = agg(results.trellis);
    const p = agg(results.peer);
    const checks = [
      { name: `interactive < ${TARGET_INTERACTIVE_MS} ms`, ok: t.interactiveMs < TARGET_INTERACTIVE_MS },
      { name: `p95 drawn frame while panning ≤ ${TARGET_FRAME_P95_MS} ms`, ok: t.panP95 <= TARGET_FRAME_P95_MS },
      { name: `p95 drawn frame while panning a live graph ≤ ${TARGET_FRAME_P95_MS} ms`, ok: (t.livePanP95 ?? Infinity) <= TARGET_FRAME_P95_MS },
    ];
    if (o.json) console.log(JSON.stringify({ nodes: NODES, edges: EDGES, rounds: ROUNDS, trellis: t, peer: p, checks }));
    else {
      const row = (name: string, a: number | null, b: number | null, unit: string) => `  ${name.padEnd(34)} ${a === null ? "–".padStart(9) : a.toFixed(1).padStart(9)} ${b === null ? "–".padStart(9) : b.toFixed(1).padStart(9)} ${unit.padEnd(4)} ${a !== null && b !== null && b > 0 ? `${(a / b).toFixed(2)}×` : ""}`;
      console.log(`\n  ${"medians".padEnd(34)} ${"trellis".padStart(9)} ${"peer".padStart(9)}      ratio`);
      console.log(row("first frame after the data", t.firstFrameMs, p.firstFrameMs, "ms"));
      console.log(row("interactive", t.interactiveMs, p.interactiveMs, "ms"));
      console.log(row("longest main-thread task", t.longestTaskMs, p.longestTaskMs, "ms"));
      console.log(row("click → selection", t.clickToSelectMs, p.clickToSelectMs, "ms"));
      console.log(row("panning: drawn frame, p50", t.panP50, p.panP50, "ms"));
      console.log(row("panning: drawn frame, p95", t.panP95, p.panP95, "ms"));
      console.log(row("panning: drawn frame, max", t.panMax, p.panMax, "ms"));
      console.log(row("panning: frames drawn per second", t.panFps, p.panFps, "fps"));
      console.log(row("panning: main-thread frame p95", t.cadenceP95, p.cadenceP95, "ms"));
      console.log(row("live graph panning: drawn p95", t.livePanP95, null, "ms"));
      console.log(row("live graph panning: drawn max", t.livePanMax, null, "ms"));
      console.log(row("live graph panning: main p95", t.liveCadenceP95, null, "ms"));
      console.log(row("live graph: one update applied", t.updateMs, null, "ms"));
      console.log("");
      for (const c of checks) console.log(`  ${c.ok ? "PASS" : "FAIL"}  ${c.name}`);
    }
    process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    await browser?.close();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
