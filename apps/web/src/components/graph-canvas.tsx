"use client";
import cytoscape from "cytoscape";
import type { Core, ElementDefinition } from "cytoscape";
import { useEffect, useRef } from "react";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@trellis/control/router";
import { ms, pct, rps } from "../lib/format";

export type Graph = inferRouterOutputs<AppRouter>["graph"]["get"];
export type GraphNode = Graph["nodes"][number];
export type GraphEdge = Graph["edges"][number];
export type EdgeLabel = "rps" | "errors" | "p95" | "mtls";

const COLOR = { healthy: "#1a7f37", degraded: "#bf8700", failure: "#cf222e", idle: "#8c959f" } as const;
const HEALTHS = Object.keys(COLOR) as (keyof typeof COLOR)[];

function edgeLabel(e: GraphEdge, show: ReadonlySet<EdgeLabel>): string {
  const parts: string[] = [];
  if (e.traffic) {
    if (show.has("rps")) parts.push(`${rps(e.traffic.rps)} rps`);
    if (show.has("errors") && (e.traffic.errorRate ?? 0) > 0) parts.push(pct(e.traffic.errorRate));
    if (show.has("p95")) parts.push(`p95 ${ms(e.traffic.p95)}`);
    if (show.has("mtls") && e.traffic.mtlsShare) parts.push(`🔒 ${pct(e.traffic.mtlsShare)}`);
  } else if (e.tcp) {
    if (show.has("rps")) parts.push(`${e.tcp.connectionsPerSec.toFixed(2)} conn/s`);
    if (show.has("mtls") && e.tcp.mtlsShare) parts.push(`🔒 ${pct(e.tcp.mtlsShare)}`);
  }
  return parts.join(" · ");
}

function elements(g: Graph, show: ReadonlySet<EdgeLabel>, hidden: ReadonlySet<string>, found: ReadonlySet<string>): ElementDefinition[] {
  const nodes = g.nodes.filter((n) => !hidden.has(n.id));
  const ids = new Set(nodes.map((n) => n.id));
  const mark = (id: string) => (found.has(id) ? "yes" : "no");
  return [
    ...nodes.map((n) => ({ group: "nodes" as const, data: { id: n.id, label: n.type === "box" ? n.label : `${n.label}${n.badges.length ? ` [${n.badges.join(",")}]` : ""}`, health: n.health, type: n.type, found: mark(n.id), ...(n.parent && ids.has(n.parent) ? { parent: n.parent } : {}) } })),
    ...g.edges.filter((e) => ids.has(e.source) && ids.has(e.target) && !hidden.has(e.id)).map((e) => ({ group: "edges" as const, data: { id: e.id, found: mark(e.id), source: e.source, target: e.target, health: e.health, label: edgeLabel(e, show), mtls: (e.traffic?.mtlsShare ?? e.tcp?.mtlsShare ?? 0) > 0 ? "yes" : "no" } })),
  ];
}

/** Lays the graph out; breadth-first flows from the callers nobody calls (the ingress, unknown callers) downwards. */
function runLayout(c: Core, name: string): void {
  const extra = name === "breadthfirst" ? { directed: true, roots: c.nodes().filter((n) => n.indegree(false) === 0 && n.outdegree(false) > 0) } : {};
  c.layout({ name, animate: false, fit: true, padding: 30, ...extra } as cytoscape.LayoutOptions).run();
}

const EDGE_FONT = 9;
const MIN_ZOOMED_FONT = 7;
/** Above this many edges, bezier curves (which fan parallel edges out) cost too much per restyle: edges go straight. */
const STRAIGHT_ABOVE = 600;

/** Whether an edge's label is drawn now: legible at this zoom, and an end of the edge in (or near) the view. */
function labelShown(c: Core, e: cytoscape.EdgeSingular, ext: cytoscape.BoundingBox12 & cytoscape.BoundingBoxWH): boolean {
  if (c.zoom() * EDGE_FONT < MIN_ZOOMED_FONT) return false;
  const near = (p: cytoscape.Position) => p.x > ext.x1 - ext.w * 0.25 && p.x < ext.x2 + ext.w * 0.25 && p.y > ext.y1 - ext.h * 0.25 && p.y < ext.y2 + ext.h * 0.25;
  return near(e.source().position()) || near(e.target().position());
}

/**
 * The graph itself: one cytoscape instance for the page's life; each new graph updates the
 * elements in place (positions kept), and only new nodes trigger a layout, so a live graph
 * does not jump every second.
 *
 * Level of detail, so 1000 nodes stay smooth (bench/dashboard): every data change restyles
 * its element, and a live graph changes nearly every edge's figures every second. So only what
 * changed is set, and an edge's new label is set only while it is drawn (legible at the zoom,
 * near the view); the others wait in `pending` until a pan or zoom brings them into view.
 */
export function GraphCanvas(props: { graph: Graph | undefined; labels: ReadonlySet<EdgeLabel>; hidden: ReadonlySet<string>; found: ReadonlySet<string>; layout: string; onSelect(id: string | undefined): void; onReady?(cy: Core): void }) {
  const box = useRef<HTMLDivElement>(null);
  const cy = useRef<Core | undefined>(undefined);
  /** Edge id → its latest label, not yet set because the edge's label is not drawn now. */
  const pending = useRef(new Map<string, string>());
  const { graph, labels, hidden, found, layout, onSelect, onReady } = props;

  useEffect(() => {
    const c = cytoscape({
      container: box.current!,
      wheelSensitivity: 0.3,
      // While panning or zooming, move a picture of the graph instead of redrawing thousands of
      // elements each frame; the full drawing follows when the view settles (bench/dashboard).
      textureOnViewport: true,
      // Colours by selector rather than function mappers, and labels drawn only where they are
      // legible (min-zoomed-font-size): with 1000 nodes in view, neither is free (bench/dashboard).
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 11, "min-zoomed-font-size": MIN_ZOOMED_FONT, "text-valign": "bottom", "text-margin-y": 4, width: 26, height: 26, "background-color": "#fff", "border-width": 3, "border-color": COLOR.idle } },
        ...HEALTHS.map((h) => ({ selector: `node[health = "${h}"]`, style: { "border-color": COLOR[h] } })),
        { selector: 'node[type = "external"]', style: { shape: "round-rectangle" } },
        { selector: 'node[type = "unknown"]', style: { shape: "diamond" } },
        { selector: 'node[type = "box"]', style: { "background-color": "#f6f8fa", "border-width": 1, "border-color": "#d0d7de", "text-valign": "top", shape: "round-rectangle" } },
        { selector: "edge", style: { width: 2, "curve-style": "bezier", "target-arrow-shape": "triangle", label: "data(label)", "font-size": EDGE_FONT, "min-zoomed-font-size": MIN_ZOOMED_FONT, "text-background-color": "#fff", "text-background-opacity": 0.85, "line-color": COLOR.idle, "target-arrow-color": COLOR.idle } },
        ...HEALTHS.map((h) => ({ selector: `edge[health = "${h}"]`, style: { "line-color": COLOR[h], "target-arrow-color": COLOR[h] } })),
        { selector: 'edge[mtls = "no"]', style: { "line-style": "dashed" } },
        { selector: 'node[found = "yes"]', style: { "underlay-color": "#0b5cad", "underlay-opacity": 0.25, "underlay-padding": 8 } },
        { selector: 'edge[found = "yes"]', style: { width: 5 } },
        { selector: ":selected", style: { "overlay-color": "#0b5cad", "overlay-opacity": 0.2 } },
      ],
    });
    c.on("tap", (e) => onSelect(e.target === c ? undefined : (e.target as cytoscape.SingularElementArgument).id()));
    // When a pan or zoom settles, the labels that came into view catch up.
    let settle: ReturnType<typeof setTimeout> | undefined;
    c.on("viewport", () => {
      clearTimeout(settle);
      settle = setTimeout(() => {
        if (c.destroyed() || pending.current.size === 0) return;
        const ext = c.extent();
        c.batch(() => {
          for (const [id, label] of pending.current) {
            const e = c.getElementById(id);
            if (e.empty()) pending.current.delete(id);
            else if (labelShown(c, e as cytoscape.EdgeSingular, ext)) {
              e.data("label", label);
              pending.current.delete(id);
            }
          }
        });
      }, 150);
    });
    cy.current = c;
    onReady?.(c);
    return () => c.destroy();
    // One instance for the page's life.
  }, []);

  useEffect(() => {
    const c = cy.current;
    if (!c || !graph) return;
    const want = elements(graph, labels, hidden, found);
    const wantIds = new Set(want.map((e) => e.data.id!));
    const have = new Map<string, cytoscape.SingularElementArgument>();
    c.elements().forEach((el) => void have.set(el.id(), el));
    const fresh: ElementDefinition[] = [];
    const ext = c.extent();
    // Decided before the elements go in, so they are styled once.
    const straight = want.filter((e) => e.group === "edges").length > STRAIGHT_ABOVE;
    if (straight !== (c.scratch("straight") === true)) {
      c.scratch("straight", straight);
      c.style().selector("edge").style("curve-style", straight ? "straight" : "bezier").update();
    }
    const moves: [cytoscape.NodeSingular, string | null][] = [];
    c.batch(() => {
      const gone = c.elements().filter((el) => !wantIds.has(el.id()));
      if (gone.nonempty()) gone.remove();
      for (const el of want) {
        const existing = have.get(el.data.id!);
        if (!existing || existing.removed()) {
          fresh.push(el);
          continue;
        }
        // Only what changed: every data() call restyles its element, and a live graph of
        // thousands of elements arrives every second.
        const now = existing.data() as Record<string, unknown>;
        let changed: Record<string, unknown> | undefined;
        for (const [k, v] of Object.entries(el.data)) {
          if (k === "parent" || k === "source" || k === "target") continue;
          if (now[k] === v) {
            // Back to what is drawn: an older label waiting for the view must not replace it later.
            if (k === "label") pending.current.delete(el.data.id!);
            continue;
          }
          if (k === "label" && existing.isEdge() && !labelShown(c, existing, ext)) {
            pending.current.set(el.data.id!, v as string);
            continue;
          }
          if (k === "label") pending.current.delete(el.data.id!);
          (changed ??= {})[k] = v;
        }
        if (changed) existing.data(changed);
        if (existing.isNode() && (el.data.parent ?? null) !== (existing.data("parent") ?? null)) moves.push([existing as cytoscape.NodeSingular, el.data.parent ?? null]);
      }
      // One add for all the new ones: adding one by one costs a collection each. Then nodes
      // whose box changed move (their new box may be among the new).
      if (fresh.length) c.add(fresh);
      for (const [node, parent] of moves) node.move({ parent });
    });

    const added = fresh.length;
    if (added > 0) runLayout(c, layout);
  }, [graph, labels, hidden, found, layout]);

  useEffect(() => {
    if (cy.current) runLayout(cy.current, layout);
  }, [layout]);

  return <div ref={box} data-testid="graph-canvas" style={{ width: "100%", height: 560, background: "#fff", border: "1px solid var(--line)" }} />;
}
