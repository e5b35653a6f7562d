"use client";
import { useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import type { Core } from "cytoscape";
import dynamic from "next/dynamic";
import Link from "next/link";
import { useMemo, useRef, useState } from "react";
import { useTRPC } from "../../lib/trpc";
import { ms, pct, rps } from "../../lib/format";
import type { EdgeLabel, Graph } from "../../components/graph-canvas";
import { parseExpression } from "../../lib/graph-filter";
import { SplitHandles } from "../../components/split-handles";
import type { Measured } from "../../lib/graph-filter";

// cytoscape touches the DOM: client-side only.
const GraphCanvas = dynamic(() => import("../../components/graph-canvas").then((m) => m.GraphCanvas), { ssr: false, loading: () => <div className="skeleton" style={{ height: 560 }} /> });

const KINDS = [
  { id: "service", label: "Services" },
  { id: "workload", label: "Workloads" },
  { id: "app", label: "Versioned apps" },
] as const;
const LABELS: EdgeLabel[] = ["rps", "errors", "p95", "mtls"];
const LAYOUTS = ["breadthfirst", "cose", "circle", "grid"] as const;

/** The live graph: a new one every second over the graph.watch subscription. */
export default function GraphPage() {
  const trpc = useTRPC();
  const [kind, setKind] = useState<(typeof KINDS)[number]["id"]>("service");
  const [namespace, setNamespace] = useState("");
  const [windowSec, setWindowSec] = useState(60);
  const [labels, setLabels] = useState<ReadonlySet<EdgeLabel>>(new Set(["rps", "errors"]));
  const [layout, setLayout] = useState<(typeof LAYOUTS)[number]>("breadthfirst");
  const [hideIdle, setHideIdle] = useState(false);
  const [selected, setSelected] = useState<string | undefined>();
  const [liveGraph, setLiveGraph] = useState<Graph | undefined>();
  const [findText, setFindText] = useState("");
  const [hideText, setHideText] = useState("");
  const find = useMemo(() => parseExpression(findText), [findText]);
  const hide = useMemo(() => parseExpression(hideText), [hideText]);
  const cy = useRef<Core | undefined>(undefined);
  const services = useQuery(trpc.services.list.queryOptions({}));
  const namespaces = useMemo(() => [...new Set((services.data ?? []).map((s) => s.metadata.namespace))].sort(), [services.data]);

  // Replay: a past window (its end chosen here) instead of the live push.
  const [replayAt, setReplayAt] = useState<number | undefined>();
  const input = { kind, windowSec, namespaces: namespace ? [namespace] : [] };
  const sub = useSubscription(trpc.graph.watch.subscriptionOptions(input, { enabled: replayAt === undefined, onData: (g) => setLiveGraph(g as Graph) }));
  const replay = useQuery({ ...trpc.graph.get.queryOptions({ ...input, until: replayAt ?? 1 }), enabled: replayAt !== undefined });
  const graph = replayAt !== undefined ? (replay.data as Graph | undefined) : liveGraph;
  // What find and hide measure: a node by its inbound traffic, an edge by its own.
  const measured = useMemo(() => {
    const out: Array<{ id: string; m: Measured; idle: boolean }> = [];
    for (const n of graph?.nodes ?? []) out.push({ id: n.id, idle: n.idle, m: { name: n.label, rps: n.inbound?.rps ?? null, errorRate: n.inbound?.errorRate ?? null, p50: n.inbound?.p50 ?? null, p95: n.inbound?.p95 ?? null, p99: n.inbound?.p99 ?? null, mtlsShare: n.inbound?.mtlsShare ?? null, health: n.health } });
    for (const e of graph?.edges ?? []) out.push({ id: e.id, idle: false, m: { name: e.id, rps: e.traffic?.rps ?? null, errorRate: e.traffic?.errorRate ?? null, p50: e.traffic?.p50 ?? null, p95: e.traffic?.p95 ?? null, p99: e.traffic?.p99 ?? null, mtlsShare: e.traffic?.mtlsShare ?? e.tcp?.mtlsShare ?? null, health: e.health } });
    return out;
  }, [graph]);
  const hidden = useMemo(() => new Set(measured.filter((x) => (hideIdle && x.idle) || (hide.test !== undefined && hide.test(x.m))).map((x) => x.id)), [measured, hideIdle, hide]);
  const found = useMemo(() => new Set(find.test ? measured.filter((x) => find.test!(x.m)).map((x) => x.id) : []), [measured, find]);
  const sel = graph?.nodes.find((n) => n.id === selected) ?? graph?.edges.find((e) => e.id === selected);

  const download = (name: string, href: string) => {
    const a = document.createElement("a");
    a.href = href;
    a.download = name;
    a.click();
  };
  return (
    <>
      <h1>Graph</h1>
      <div className="panel" style={{ display: "flex", flexWrap: "wrap", gap: 14, alignItems: "center", marginBottom: 10 }}>
        <label>
          Kind{" "}
          <select value={kind} onChange={(e) => setKind(e.target.value as typeof kind)} aria-label="graph kind">
            {KINDS.map((k) => (
              <option key={k.id} value={k.id}>
                {k.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Namespace{" "}
          <select value={namespace} onChange={(e) => setNamespace(e.target.value)} aria-label="namespace" style={{ width: 140 }}>
            <option value="">all</option>
            {namespaces.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Window{" "}
          <select value={windowSec} onChange={(e) => setWindowSec(Number(e.target.value))} aria-label="window">
            {[60, 300, 900, 3600].map((w) => (
              <option key={w} value={w}>
                {w < 3600 ? `${w / 60} min` : "1 h"}
              </option>
            ))}
          </select>
        </label>
        <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
          <legend className="muted" style={{ float: "left", marginRight: 6 }}>
            Edge labels
          </legend>
          {LABELS.map((l) => (
            <label key={l} style={{ marginRight: 8 }}>
              <input
                type="checkbox"
                checked={labels.has(l)}
                onChange={(e) => {
                  const next = new Set(labels);
                  if (e.target.checked) next.add(l);
                  else next.delete(l);
                  setLabels(next);
                }}
              />{" "}
              {l === "errors" ? "error %" : l === "mtls" ? "mTLS" : l}
            </label>
          ))}
        </fieldset>
        <label>
          <input type="checkbox" checked={hideIdle} onChange={(e) => setHideIdle(e.target.checked)} /> hide idle
        </label>
        <label>
          Find{" "}
          <input name="find" value={findText} onChange={(e) => setFindText(e.target.value)} placeholder="errors>5% p95>200ms" aria-invalid={find.error ? true : undefined} style={{ width: 170 }} />
        </label>
        <label>
          Hide{" "}
          <input name="hide" value={hideText} onChange={(e) => setHideText(e.target.value)} placeholder="name=synthetic*" aria-invalid={hide.error ? true : undefined} style={{ width: 150 }} />
        </label>
        <label>
          Layout{" "}
          <select value={layout} onChange={(e) => setLayout(e.target.value as typeof layout)} aria-label="layout">
            {LAYOUTS.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </label>
        <label>
          Replay until{" "}
          <input
            type="datetime-local"
            name="replay"
            step={60}
            aria-label="replay until"
            value={replayAt === undefined ? "" : toLocalInput(replayAt)}
            onChange={(e) => setReplayAt(e.target.value ? new Date(e.target.value).getTime() : undefined)}
          />
        </label>
        {replayAt !== undefined ? (
          <button type="button" onClick={() => setReplayAt(undefined)}>
            Live
          </button>
        ) : null}
        <button type="button" onClick={() => cy.current && download("trellis-graph.png", cy.current.png({ full: true, bg: "#ffffff" }))} disabled={!graph}>
          PNG
        </button>
        <button type="button" onClick={() => graph && download("trellis-graph.json", URL.createObjectURL(new Blob([JSON.stringify(graph, null, 2)], { type: "application/json" })))} disabled={!graph}>
          JSON
        </button>
        <span className="muted" data-testid="graph-status" style={{ marginLeft: "auto", minWidth: 220, textAlign: "right" }}>
          {replayAt !== undefined
            ? replay.isError
              ? `replay failed: ${replay.error.message}`
              : replay.data
                ? `replay: ${replay.data.nodes.length} nodes · ${replay.data.edges.length} edges · until ${new Date(replay.data.to).toLocaleTimeString()}`
                : "loading the replay…"
            : sub.status === "error"
              ? `live updates failed: ${sub.error?.message}`
              : graph
                ? `${graph.nodes.length} nodes · ${graph.edges.length} edges · ${new Date(graph.to).toLocaleTimeString()}`
                : "connecting…"}
        </span>
      </div>
      <p role="status" data-testid="find-status" className={find.error || hide.error ? "error" : "muted"} style={{ minHeight: "1.4em", margin: "0 0 8px" }}>
        {find.error ?? hide.error ?? (find.test ? `${found.size} found` : "")}
        {!find.error && !hide.error && hide.test ? `${find.test ? " · " : ""}${hidden.size} hidden` : ""}
      </p>
      <div style={{ display: "grid", gridTemplateColumns: "1fr 320px", gap: 12 }}>
        <div style={{ position: "relative" }}>
          <GraphCanvas graph={graph} labels={labels} hidden={hidden} found={found} layout={layout} onSelect={setSelected} onReady={(c) => (cy.current = c)} />
          {/* Loading and empty states over the canvas, which keeps its size: nothing jumps when the graph arrives. */}
          {!graph || graph.nodes.length === 0 || hidden.size >= graph.nodes.length ? (
            <div className="muted" data-testid="graph-empty" style={{ position: "absolute", inset: 0, display: "grid", placeItems: "center", pointerEvents: "none" }}>
              {!graph ? "Loading the graph…" : graph.nodes.length === 0 ? "No services and no traffic in this window." : "The hide expression hides every node."}
            </div>
          ) : null}
        </div>
        <aside className="panel" data-testid="side-panel" style={{ minHeight: 560 }}>
          {!sel ? (
            <span className="muted">Click a node or an edge.</span>
          ) : "source" in sel ? (
            <>
              <h2 style={{ fontSize: 15, marginTop: 0 }}>
                {sel.source} → {sel.target}
              </h2>
              <p>
                <Link href={`/traces?service=${encodeURIComponent(serviceOf(sel.target) ?? "")}`}>traces to this service</Link>
              </p>
              <p>
                {sel.protocol} · health <strong>{sel.health}</strong>
              </p>
              {sel.traffic ? (
                <dl>
                  <dt>requests/s</dt>
                  <dd>{rps(sel.traffic.rps)}</dd>
                  <dt>errors</dt>
                  <dd>{pct(sel.traffic.errorRate)}</dd>
                  <dt>latency p50 / p95 / p99</dt>
                  <dd>
                    {ms(sel.traffic.p50)} / {ms(sel.traffic.p95)} / {ms(sel.traffic.p99)}
                  </dd>
                  <dt>mTLS</dt>
                  <dd>{pct(sel.traffic.mtlsShare)}</dd>
                </dl>
              ) : sel.tcp ? (
                <p>
                  {sel.tcp.connectionsPerSec.toFixed(2)} connections/s · {Math.round(sel.tcp.bytesPerSec)} B/s · mTLS {pct(sel.tcp.mtlsShare)}
                </p>
              ) : null}
              {serviceOf(sel.target) && namespaceOf(sel.target) ? <SplitHandles namespace={namespaceOf(sel.target)!} service={serviceOf(sel.target)!} /> : null}
            </>
          ) : (
            <>
              <h2 style={{ fontSize: 15, marginTop: 0 }}>{sel.label}</h2>
              <p data-testid="side-links">
                {sel.service ? <Link href={`/services/${sel.namespace}/${sel.service}`}>service page</Link> : null}
                {sel.workload ? (
                  <>
                    {" · "}
                    <Link href={`/workloads/${sel.namespace}/${sel.workload}`}>workload page</Link>
                  </>
                ) : null}
                {sel.service ? (
                  <>
                    {" · "}
                    <Link href={`/traces?service=${encodeURIComponent(sel.service)}`}>traces</Link>
                  </>
                ) : null}
              </p>
              <p>
                {sel.type} in {sel.namespace} · health <strong>{sel.health}</strong>
                {sel.badges.length ? ` · ${sel.badges.join(", ")}` : ""}
              </p>
              {sel.inbound ? (
                <p>
                  inbound {rps(sel.inbound.rps)} rps, {pct(sel.inbound.errorRate)} errors, p95 {ms(sel.inbound.p95)}
                </p>
              ) : null}
              {sel.outbound ? (
                <p>
                  outbound {rps(sel.outbound.rps)} rps, {pct(sel.outbound.errorRate)} errors, p95 {ms(sel.outbound.p95)}
                </p>
              ) : null}
              {sel.service && sel.type !== "external" ? <SplitHandles namespace={sel.namespace} service={sel.service} /> : null}
            </>
          )}
        </aside>
      </div>
    </>
  );
}

/** `yyyy-MM-ddTHH:mm` in local time, for a datetime-local input. */
function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The namespace of a graph node id (`svc:ns/name`, `app:ns/name/version`, `wl:ns/workload`). */
function namespaceOf(id: string): string | undefined {
  return /^(?:svc|app|wl):([^/]+)\//.exec(id)?.[1];
}

/** The service of a graph node id (`svc:ns/name`, `wl:ns/workload` has none here, `app:ns/name/version`). */
function serviceOf(id: string): string | undefined {
  const m = /^(?:svc|app):[^/]+\/([^/>]+)/.exec(id);
  return m?.[1];
}
