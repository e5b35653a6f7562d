"use client";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useState } from "react";
import type { FormEvent } from "react";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@trellis/control/router";
import { useTRPC } from "../../lib/trpc";
import { ms } from "../../lib/format";

type Raw = inferRouterOutputs<AppRouter>["tap"]["watch"];
type Item = Raw extends AsyncIterable<infer T> ? T : Raw;
type TapEvent = Extract<Item, { type: "event" }>["event"];

interface Filter {
  destinationService?: string;
  destinationNamespace?: string;
  sourceWorkload?: string;
  pathPrefix?: string;
  statusMin?: number;
}

const MAX_ROWS = 200;

/** Live tap: a filtered stream of request summaries from every proxy, newest first (no bodies; credentials redacted). */
export default function Tap() {
  const trpc = useTRPC();
  const [form, setForm] = useState<Filter>({});
  const [filter, setFilter] = useState<Filter | undefined>();
  const [events, setEvents] = useState<TapEvent[]>([]);
  const [lost, setLost] = useState(0);
  const sub = useSubscription(
    trpc.tap.watch.subscriptionOptions(filter ? { filter } : { filter: {} }, {
      enabled: filter !== undefined,
      onData: (item) => {
        const i = item as Item;
        if (i.type === "event") setEvents((prev) => [i.event, ...prev].slice(0, MAX_ROWS));
        else if (i.type === "lost") setLost((n) => n + i.count);
      },
    }),
  );
  const start = (e: FormEvent) => {
    e.preventDefault();
    setEvents([]);
    setLost(0);
    setFilter({ ...form });
  };
  const field = (k: keyof Filter, label: string, placeholder: string) => (
    <label>
      {label}
      <br />
      <input name={k} value={form[k] === undefined ? "" : String(form[k])} placeholder={placeholder} onChange={(e) => setForm({ ...form, [k]: e.target.value === "" ? undefined : k === "statusMin" ? Number(e.target.value) : e.target.value })} />
    </label>
  );
  return (
    <>
      <h1>Live tap</h1>
      <form className="panel" onSubmit={start} style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "end", marginBottom: 12 }} aria-label="tap filter">
        {field("destinationService", "Destination service", "reviews")}
        {field("destinationNamespace", "Namespace", "bookinfo")}
        {field("sourceWorkload", "Source workload", "productpage-v1")}
        {field("pathPrefix", "Path prefix", "/api/")}
        {field("statusMin", "Status ≥", "500")}
        <button type="submit">{filter ? "Restart tap" : "Start tap"}</button>
        {filter ? (
          <button type="button" onClick={() => setFilter(undefined)} style={{ background: "#fff", color: "var(--fg)", borderColor: "var(--line)" }}>
            Stop
          </button>
        ) : null}
        <span className="muted" data-testid="tap-status" style={{ marginLeft: "auto", minWidth: 200, textAlign: "right" }}>
          {!filter ? "stopped" : sub.status === "error" ? `failed: ${sub.error?.message}` : `${events.length} requests${lost ? ` (${lost} not shown: too fast)` : ""}`}
        </span>
      </form>
      {events.length === 0 ? (
        <div className="panel muted">{filter ? "Waiting for matching requests…" : "Set a filter and start the tap."}</div>
      ) : (
        <table data-testid="tap-events">
          <thead>
            <tr>
              <th>time</th>
              <th>from</th>
              <th>to</th>
              <th>method</th>
              <th>path</th>
              <th className="num">status</th>
              <th>flags</th>
              <th className="num">duration</th>
              <th>mTLS</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e, i) => (
              <tr key={`${e.startUnixMs}-${e.reporter}-${i}`}>
                <td>{new Date(e.startUnixMs).toLocaleTimeString()}</td>
                <td>
                  {e.sourceNamespace}/{e.sourceWorkload}
                </td>
                <td>
                  {e.destinationNamespace}/{e.destinationService}
                </td>
                <td>{e.method}</td>
                <td style={{ maxWidth: 320, overflow: "hidden", textOverflow: "ellipsis" }}>{e.path}</td>
                <td className={`num ${e.status >= 500 ? "error" : ""}`}>{e.status}</td>
                <td>{e.responseFlags || "-"}</td>
                <td className="num">{ms(e.durationMs)}</td>
                <td>{e.mtls ? "yes" : "no"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
