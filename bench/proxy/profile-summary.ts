/**
 * Self time by function and by file from a V8 `.cpuprofile` (node --cpu-prof): where a proxy
 * spends its CPU under load. Idle samples are left out, so shares are of the busy time;
 * `(garbage collector)` and `(program)` (native code outside JavaScript) are kept.
 */

/** The parts of a .cpuprofile this reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  name: string;
  selfMs: number;
  /** % of busy (non-idle) samples. */
  pct: number;
}

export interface ProfileSummary {
  busyMs: number;
  byFunction: HotSpot[];
  byFile: HotSpot[];
}

/**
 * Which source file each line of an esbuild bundle came from: esbuild (not minified) starts
 * every module's code with a `// path/to/file.ts` comment line. Ascending by line (0-based).
 */
export function bundleSections(bundleText: string): Array<{ line: number; file: string }> {
  const out: Array<{ line: number; file: string }> = [];
  bundleText.split("\n").forEach((l, i) => {
    const m = /^\/\/ ((?:apps|packages)\/\S+\.[cm]?[jt]s)$/.exec(l);
    if (m) out.push({ line: i, file: m[1]! });
  });
  return out;
}

/** The source file of a 0-based bundle line, from bundleSections(). */
export function sectionOf(sections: ReadonlyArray<{ line: number; file: string }>, line: number): string | undefined {
  let lo = 0;
  let hi = sections.length - 1;
  let found: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sections[mid]!.line <= line) {
      found = sections[mid]!.file;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Shortens a script URL to what a reader recognises: `node:internal/…`, `pkg` in node_modules, a repo-relative path. */
export function fileOf(url: string): string {
  if (url === "") return "(native)";
  if (url.startsWith("node:")) return url;
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = path.slice(nm + "/node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const repo = /\/(apps|packages|bench)\/(.*)$/.exec(path);
  return repo ? `${repo[1]}/${repo[2]}` : path;
}

function top(map: Map<string, number>, busyMs: number, n: number): HotSpot[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, selfMs]) => ({ name, selfMs, pct: busyMs > 0 ? (100 * selfMs) / busyMs : 0 }));
}

/**
 * The `n` hottest functions and files by self time. `bundles` maps a bundle's URL to its
 * bundleSections(), so code in apps/proxy/dist/main.mjs is named by its source file.
 */
export function summarizeProfile(p: CpuProfile, n = 15, bundles: ReadonlyMap<string, ReadonlyArray<{ line: number; file: string }>> = new Map()): ProfileSummary {
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  if (p.samples && p.timeDeltas && p.samples.length === p.timeDeltas.length) {
    // timeDeltas[i] is the time from sample i-1 to sample i; it is spent in sample i-1's frame.
    for (let i = 1; i < p.samples.length; i++) selfMs.set(p.samples[i - 1]!, (selfMs.get(p.samples[i - 1]!) ?? 0) + p.timeDeltas[i]! / 1000);
  } else {
    const hits = p.nodes.reduce((s, node) => s + (node.hitCount ?? 0), 0);
    const msPerHit = hits > 0 ? (p.endTime - p.startTime) / 1000 / hits : 0;
    for (const node of p.nodes) selfMs.set(node.id, (node.hitCount ?? 0) * msPerHit);
  }
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  let busyMs = 0;
  for (const [id, ms] of selfMs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)") continue;
    busyMs += ms;
    const sections = bundles.get(frame.url);
    const file = (sections && sectionOf(sections, frame.lineNumber)) ?? fileOf(frame.url);
    const where = sections ? `${file} (${frame.url.split("/").pop()}:${frame.lineNumber + 1})` : `${file}:${frame.lineNumber + 1}`;
    const fn = frame.url === "" ? frame.functionName : `${frame.functionName || "(anonymous)"} ${where}`;
    fns.set(fn, (fns.get(fn) ?? 0) + ms);
    files.set(frame.url === "" ? frame.functionName : file, (files.get(frame.url === "" ? frame.functionName : file) ?? 0) + ms);
  }
  return { busyMs, byFunction: top(fns, busyMs, n), byFile: top(files, busyMs, n) };
}
