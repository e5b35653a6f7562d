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

/**
 * The graph itself: one cytoscape instance for the page's life; each new graph updates the
 * elements in place (positions kept), and only new nodes trigger a layout, so a live graph
 * does not jump every second.
 */
export function GraphCanvas(props: { graph: Graph | undefined; labels: ReadonlySet<EdgeLabel>; hidden: ReadonlySet<string>; found: ReadonlySet<string>; layout: string; onSelect(id: string | undefined): void; onReady?(cy: Core): void }) {
  const box = useRef<HTMLDivElement>(null);
  const cy = useRef<Core | undefined>(undefined);
  const { graph, labels, hidden, found, layout, onSelect, onReady } = props;

  useEffect(() => {
    const c = cytoscape({
      container: box.current!,
      wheelSensitivity: 0.3,
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4, width: 26, height: 26, "background-color": "#fff", "border-width": 3, "border-color": (n: cytoscape.NodeSingular) => COLOR[n.data("health") as keyof typeof COLOR] ?? COLOR.idle } },
        { selector: 'node[type = "external"]', style: { shape: "round-rectangle" } },
        { selector: 'node[type = "unknown"]', style: { shape: "diamond" } },
        { selector: 'node[type = "box"]', style: { "background-color": "#f6f8fa", "border-width": 1, "border-color": "#d0d7de", "text-valign": "top", shape: "round-rectangle" } },
        { selector: "edge", style: { width: 2, "curve-style": "bezier", "target-arrow-shape": "triangle", label: "data(label)", "font-size": 9, "text-background-color": "#fff", "text-background-opacity": 0.85, "line-color": (e: cytoscape.EdgeSingular) => COLOR[e.data("health") as keyof typeof COLOR] ?? COLOR.idle, "target-arrow-color": (e: cytoscape.EdgeSingular) => COLOR[e.data("health") as keyof typeof COLOR] ?? COLOR.idle } },
        { selector: 'edge[mtls = "no"]', style: { "line-style": "dashed" } },
        { selector: 'node[found = "yes"]', style: { "underlay-color": "#0b5cad", "underlay-opacity": 0.25, "underlay-padding": 8 } },
        { selector: 'edge[found = "yes"]', style: { width: 5 } },
        { selector: ":selected", style: { "overlay-color": "#0b5cad", "overlay-opacity": 0.2 } },
      ],
    });
    c.on("tap", (e) => onSelect(e.target === c ? undefined : (e.target as cytoscape.SingularElementArgument).id()));
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
    let added = 0;
    c.batch(() => {
      c.elements().forEach((el) => {
        if (!wantIds.has(el.id())) el.remove();
      });
      for (const el of want) {
        const existing = c.getElementById(el.data.id!);
        if (existing.nonempty()) existing.data(el.data);
        else {
          c.add(el);
          added++;
        }
      }
    });
    if (added > 0) runLayout(c, layout);
  }, [graph, labels, hidden, found, layout]);

  useEffect(() => {
    if (cy.current) runLayout(cy.current, layout);
  }, [layout]);

  return <div ref={box} data-testid="graph-canvas" style={{ width: "100%", height: 560, background: "#fff", border: "1px solid var(--line)" }} />;
}
