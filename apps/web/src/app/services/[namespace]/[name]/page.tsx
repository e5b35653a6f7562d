"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { use } from "react";
import { SignalsPanel } from "../../../../components/signals-panel";
import { useFindings } from "../../../../lib/findings";
import { useTRPC } from "../../../../lib/trpc";
import { ms } from "../../../../lib/format";

/**
 * One service: inbound and outbound golden signals over a chosen window (charts of rate,
 * errors and latency), the routes and policies that apply to it, its validation findings, its
 * workloads (each linking to its proxy's page and config dump) and its recent traces.
 */
export default function ServicePage({ params }: { params: Promise<{ namespace: string; name: string }> }) {
  const { namespace, name } = use(params);
  const trpc = useTRPC();
  const resources = useQuery(trpc.resources.list.queryOptions({}));
  const findings = useFindings();
  const traces = useQuery(trpc.traces.search.queryOptions({ service: name, limit: 10, errorsOnly: false }));
  const endpoints = useQuery({ ...trpc.services.endpoints.queryOptions({ namespace, service: name }), refetchInterval: 10_000 });

  const host = `${name}.${namespace}`;
  const applies = (resources.data?.items ?? []).filter((r) => {
    const spec = r.spec as { hosts?: string[]; host?: string; selector?: { service?: string } };
    if (r.kind === "Route") return (spec.hosts ?? []).some((h) => h === name || h === host || h === `${host}.svc`);
    if (r.kind === "DestinationPolicy") return spec.host === name || spec.host === host;
    if (["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication", "RateLimitPolicy"].includes(r.kind)) return (r.metadata.namespace === namespace || r.metadata.namespace === "trellis-system") && (spec.selector?.service === undefined || spec.selector.service === name);
    return r.kind === "Service" && r.metadata.namespace === namespace && r.metadata.name === name;
  });
  const mine = (findings.data?.findings ?? []).filter((f) => f.resource.includes(`/${namespace}/${name}`));

  return (
    <>
      <h1 style={{ display: "flex", alignItems: "baseline", gap: 16 }}>
        <span>
          <Link href="/">Overview</Link> / {namespace} / {name}
        </span>
        <Link href={`/services/${namespace}/${name}/traffic`} style={{ fontSize: 14, fontWeight: 400 }}>
          Traffic: routes, canary, faults →
        </Link>
      </h1>
      <SignalsPanel scope="service" namespace={namespace} name={name} third="latency" />
      <div style={{ display: "grid", gridTemplateColumns: "1fr 1fr", gap: 12, marginTop: 12 }}>
        <section className="panel" data-testid="applies">
          <h2 style={{ fontSize: 15, marginTop: 0 }}>Routes and policies</h2>
          {resources.isPending ? <span className="muted">Loading…</span> : resources.isError ? <span className="error">{resources.error.message}</span> : applies.length === 0 ? <span className="muted">None.</span> : (
            <ul>
              {applies.map((r) => (
                <li key={`${r.kind}/${r.metadata.namespace}/${r.metadata.name}`}>
                  {r.kind} {r.metadata.namespace}/{r.metadata.name}
                </li>
              ))}
            </ul>
          )}
          <h2 style={{ fontSize: 15 }}>Validation findings</h2>
          {findings.isPending ? <span className="muted">Loading…</span> : findings.isError ? <span className="error">{findings.error.message}</span> : mine.length === 0 ? <span className="muted">None.</span> : (
            <ul>
              {mine.map((f, i) => (
                <li key={i} className={f.severity === "error" ? "error" : undefined}>
                  {f.code} at {f.path}: {f.message}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="panel" data-testid="traces">
          <h2 style={{ fontSize: 15, marginTop: 0 }}>Workloads</h2>
          {endpoints.isPending ? <span className="muted">Loading…</span> : endpoints.isError ? <span className="error">{endpoints.error.message}</span> : endpoints.data.length === 0 ? <span className="muted">No live workload.</span> : (
            <ul data-testid="workloads">
              {endpoints.data.map((e) => (
                <li key={e.id}>
                  {e.sidecar ? <Link href={`/workloads/${e.namespace}/${e.workload}`}>{e.workload}</Link> : e.workload} <span className="muted">{Object.entries(e.labels).map(([k, v]) => `${k}=${v}`).join(" ")}{e.sidecar ? " · proxy, config dump" : " · no sidecar"}</span>
                </li>
              ))}
            </ul>
          )}
          <h2 style={{ fontSize: 15 }}>Recent traces</h2>
          {traces.isPending ? <span className="muted">Loading…</span> : traces.isError ? <span className="error">{traces.error.message}</span> : traces.data.length === 0 ? <span className="muted">No trace in the last hour.</span> : (
            <table>
              <tbody>
                {traces.data.map((t) => (
                  <tr key={t.traceId}>
                    <td>
                      <Link href={`/traces/${t.traceId}`}>
                        <code>{t.traceId.slice(0, 12)}</code>
                      </Link>
                    </td>
                    <td>{t.rootOperation}</td>
                    <td className="num">{ms(t.durationMs)}</td>
                    <td className={t.error ? "error" : "muted"}>{t.error ? "error" : "ok"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </>
  );
}
