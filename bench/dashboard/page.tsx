/**
 * The page the dashboard benchmark loads in Chromium (bundled by run.ts with esbuild). It
 * mounts either the dashboard's own graph component (apps/web's GraphCanvas, with the props the
 * graph page gives it: rps and error labels, breadth-first layout) or the peer — cytoscape as
 * one first writes it: the same elements and layout, labels on, every other setting default —
 * and exposes hooks the runner drives: frame recording, long tasks, live updates, selection.
 */
import cytoscape from "cytoscape";
import type { Core } from "cytoscape";
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { flushSync } from "react-dom";
import { GraphCanvas } from "../../apps/web/src/components/graph-canvas";
import type { EdgeLabel, Graph } from "../../apps/web/src/components/graph-canvas";
import { nextSecond, prng, syntheticGraph } from "./synthetic";

const LABELS: ReadonlySet<EdgeLabel> = new Set(["rps", "errors"]);
const NONE: ReadonlySet<string> = new Set();

interface BenchState {
  cy?: Core;
  t0: number;
  mousedownAt?: number;
  selectedAt?: number;
  selected?: string;
  longTasks: { start: number; end: number }[];
  updates: number[];
}

const state: BenchState = { t0: 0, longTasks: [], updates: [] };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) state.longTasks.push({ start: e.startTime, end: e.startTime + e.duration });
}).observe({ type: "longtask", buffered: true });

const box = document.getElementById("root")!;
box.addEventListener("mousedown", () => (state.mousedownAt = performance.now()), true);
const onSelect = (id: string | undefined) => {
  state.selected = id;
  state.selectedAt = performance.now();
};

const frame = () => new Promise<number>((r) => requestAnimationFrame(r));

let graph: Graph;
let setGraph: ((g: Graph) => void) | undefined;
const rand = prng(7);

function App(props: { initial: Graph }) {
  const [g, set] = useState(props.initial);
  setGraph = set;
  return <GraphCanvas graph={g} labels={LABELS} hidden={NONE} found={NONE} layout="breadthfirst" onSelect={onSelect} onReady={(c) => (state.cy = c)} />;
}

function mountPeer(g: Graph): Core {
  const el = document.createElement("div");
  el.style.cssText = "width:100%;height:560px;background:#fff";
  box.appendChild(el);
  const elements = [...g.nodes.map((n) => ({ group: "nodes" as const, data: { id: n.id, label: n.label } })), ...g.edges.map((e) => ({ group: "edges" as const, data: { id: e.id, source: e.source, target: e.target, label: e.traffic ? `${e.traffic.rps} rps` : "" } }))];
  const c = cytoscape({
    container: el,
    elements,
    style: [
      { selector: "node", style: { label: "data(label)" } },
      { selector: "edge", style: { label: "data(label)", "curve-style": "bezier", "target-arrow-shape": "triangle" } },
    ],
    layout: { name: "breadthfirst", directed: true, fit: true, padding: 30 } as cytoscape.LayoutOptions,
  });
  c.on("tap", (e) => onSelect(e.target === c ? undefined : (e.target as cytoscape.SingularElementArgument).id()));
  return c;
}

const api = {
  /** Mounts a contender on a fresh synthetic graph; resolves when its first frame is drawn, with ms since the data was in hand. */
  async mount(variant: "trellis" | "peer", nodes: number, edges: number, seed: number): Promise<{ firstFrameMs: number; nodes: number; edges: number }> {
    // As the live graph arrives: a JSON message parsed into objects.
    const wire = JSON.stringify(syntheticGraph(nodes, edges, seed));
    state.t0 = performance.now();
    graph = JSON.parse(wire) as Graph;
    if (variant === "peer") state.cy = mountPeer(graph);
    else flushSync(() => createRoot(box).render(<App initial={graph} />));
    while (!state.cy || state.cy.nodes().length < nodes) await frame();
    await frame();
    await frame();
    return { firstFrameMs: performance.now() - state.t0, nodes: state.cy.nodes().length, edges: state.cy.edges().length };
  },
  /** Long tasks since the mount, relative to it. */
  longTasks(): { start: number; end: number }[] {
    return state.longTasks.filter((t) => t.end > state.t0).map((t) => ({ start: t.start - state.t0, end: t.end - state.t0 }));
  },
  /** Page coordinates of a node well inside the view (a leaf low in the layout), to click on. */
  nodeToClick(): { id: string; x: number; y: number } {
    const c = state.cy!;
    const r = box.getBoundingClientRect();
    const ext = c.extent();
    const inside = c.nodes().filter((n) => {
      const p = n.position();
      return p.x > ext.x1 + ext.w * 0.2 && p.x < ext.x2 - ext.w * 0.2 && p.y > ext.y1 + ext.h * 0.2 && p.y < ext.y2 - ext.h * 0.2;
    });
    const n = (inside.nonempty() ? inside : c.nodes())[0]!;
    const p = n.renderedPosition();
    return { id: n.id(), x: r.left + p.x, y: r.top + p.y };
  },
  /** Time from the mouse going down to the graph reporting the selection, and what was selected. */
  selection(): { id: string | undefined; ms: number | undefined } {
    return { id: state.selected, ms: state.selectedAt !== undefined && state.mousedownAt !== undefined ? state.selectedAt - state.mousedownAt : undefined };
  },
  zoom(): number {
    return state.cy!.zoom();
  },
  /**
   * Drags the view for `ms` from an empty corner (inside the fit padding), one mouse move per
   * animation frame (60 a second, as a browser delivers a real drag; CDP round trips from the
   * runner could not keep that pace), along a slow ellipse, with `tickEveryMs` live updates
   * meanwhile (0: none). Records the main thread's frame cadence (long frames are jank) and
   * when the graph was actually drawn — cytoscape skips redraws while drawing is slow, so a
   * smooth cadence alone proves nothing.
   */
  async drag(ms: number, tickEveryMs: number): Promise<{ frames: number[]; draws: number[]; updates: number[]; moved: boolean }> {
    const c = state.cy!;
    const draws: number[] = [];
    const onRender = () => void draws.push(performance.now());
    c.on("render", onRender);
    const r = box.getBoundingClientRect();
    const x0 = r.left + 8;
    const y0 = r.top + 8;
    const target = (box.querySelector("canvas:last-of-type") ?? box) as HTMLElement;
    const mouse = (type: string, x: number, y: number) => (type === "mousedown" ? target : window).dispatchEvent(new MouseEvent(type, { clientX: x, clientY: y, button: 0, buttons: type === "mouseup" ? 0 : 1, bubbles: true, cancelable: true, view: window }));
    const before = { ...c.pan() };
    const frames: number[] = [];
    const updates: number[] = [];
    let ticking = false;
    const timer = tickEveryMs > 0 ? setInterval(() => {
      if (ticking) return;
      ticking = true;
      void api.tick().then((u) => {
        updates.push(u);
        ticking = false;
      });
    }, tickEveryMs) : undefined;
    mouse("mousedown", x0, y0);
    const start = await frame();
    let last = start;
    for (let i = 1; ; i++) {
      const t = await frame();
      frames.push(t - last);
      last = t;
      if (t - start >= ms) break;
      mouse("mousemove", x0 + 200 + 200 * Math.sin(i / 40 - Math.PI / 2), y0 + 120 * (1 - Math.cos(i / 40)));
    }
    mouse("mouseup", x0, y0);
    clearInterval(timer);
    c.off("render", onRender);
    const after = c.pan();
    return { frames, draws: draws.slice(1).map((d, i) => d - draws[i]!), updates, moved: after.x !== before.x || after.y !== before.y };
  },
  /**
   * The live graph's next second, as graph.watch would push it (parsed from JSON); resolves
   * once React rendered it and the canvas's effect updated the elements, with the ms it took
   * (an upper bound: it includes the wait for the effect's turn).
   */
  async tick(): Promise<number> {
    const wire = JSON.stringify(nextSecond(graph, rand));
    const t = performance.now();
    graph = JSON.parse(wire) as Graph;
    flushSync(() => setGraph!(graph));
    await new Promise((r) => setTimeout(r, 0));
    const ms = performance.now() - t;
    state.updates.push(ms);
    return ms;
  },
};

(window as unknown as { bench: typeof api }).bench = api;
document.title = "ready";
