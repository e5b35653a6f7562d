"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useFindings } from "../lib/findings";
import { useTRPC } from "../lib/trpc";
import { healthClass, ms, pct, rps } from "../lib/format";

/**
 * Overview: every namespace's services with health, request rate, error rate, p95, mTLS share
 * (from the live graph, last 60 s), live endpoints, and validation findings of the config.
 */
export default function Overview() {
  const trpc = useTRPC();
  const services = useQuery(trpc.services.list.queryOptions({}));
  const graph = useQuery({ ...trpc.graph.get.queryOptions({ kind: "service", windowSec: 60 }), refetchInterval: 5_000 });
  const findings = useFindings();

  if (services.isError) return <p className="error" role="alert">Could not load services: {services.error.message}</p>;
  const nodes = new Map((graph.data?.nodes ?? []).map((n) => [n.id, n]));
  const byNs = new Map<string, NonNullable<typeof services.data>>();
  for (const s of services.data ?? []) {
    const list = byNs.get(s.metadata.namespace) ?? [];
    list.push(s);
    byNs.set(s.metadata.namespace, list);
  }
  const findingsOf = (ns: string, name: string) => (findings.data?.findings ?? []).filter((f) => f.resource.includes(`/${ns}/${name}`)).length;
  return (
    <>
      <h1>Overview</h1>
      <p className="muted" data-testid="summary">
        {services.isPending ? "Loading…" : `${services.data.length} services in ${byNs.size} namespaces`}
        {findings.data ? ` · ${findings.data.findings.length} validation findings` : ""}
      </p>
      {services.isPending ? (
        <div className="skeleton" aria-busy="true" />
      ) : services.data.length === 0 ? (
        <div className="panel">No services yet. Write some config (resources.write) or run `npm run demo`.</div>
      ) : (
        [...byNs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([ns, list]) => (
          <section key={ns} style={{ marginBottom: 20 }}>
            <h2 style={{ fontSize: 16 }}>{ns}</h2>
            <table>
              <thead>
                <tr>
                  <th>service</th>
                  <th>health</th>
                  <th className="num">req/s</th>
                  <th className="num">errors</th>
                  <th className="num">p95</th>
                  <th className="num">mTLS</th>
                  <th className="num">endpoints</th>
                  <th className="num">findings</th>
                </tr>
              </thead>
              <tbody>
                {list
                  .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
                  .map((s) => {
                    const n = nodes.get(`svc:${ns}/${s.metadata.name}`);
                    const sig = n?.inbound;
                    return (
                      <tr key={s.metadata.name} data-testid={`service-${ns}-${s.metadata.name}`}>
                        <td>
                          <Link href={`/services/${ns}/${s.metadata.name}`}>{s.metadata.name}</Link>
                        </td>
                        <td>
                          <span className={`state ${healthClass(n?.health ?? "idle")}`}>{n?.health ?? "idle"}</span>
                        </td>
                        <td className="num">{rps(sig?.rps)}</td>
                        <td className="num">{pct(sig?.errorRate)}</td>
                        <td className="num">{ms(sig?.p95)}</td>
                        <td className="num">{pct(sig?.mtlsShare)}</td>
                        <td className="num">{s.endpoints}</td>
                        <td className="num">{findings.data ? findingsOf(ns, s.metadata.name) : "–"}</td>
                      </tr>
                    );
                  })}
              </tbody>
            </table>
          </section>
        ))
      )}
    </>
  );
}
