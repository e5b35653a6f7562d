"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../../lib/trpc";
import { ago, until } from "../../lib/format";

const stateClass = { SYNCED: "ok", STALE: "warn", NACKED: "bad" } as const;

/** Every proxy's config sync: SYNCED / STALE / NACKED, the version it runs, its last ACK and NACK reason, and when its mesh certificate expires. */
export default function Proxies() {
  const trpc = useTRPC();
  const status = useQuery({ ...trpc.proxies.status.queryOptions({}), refetchInterval: 3_000 });
  if (status.isError) return <p className="error" role="alert">Could not load proxy status: {status.error.message}</p>;
  return (
    <>
      <h1>Proxies</h1>
      {status.isPending ? (
        <div className="skeleton" aria-busy="true" />
      ) : status.data.length === 0 ? (
        <div className="panel">No proxy is connected.</div>
      ) : (
        <table>
          <thead>
            <tr>
              <th>proxy</th>
              <th>service</th>
              <th>state</th>
              <th>version</th>
              <th>revision</th>
              <th>last ACK</th>
              <th>NACK reason</th>
              <th>certificate</th>
              <th>replica</th>
            </tr>
          </thead>
          <tbody>
            {status.data.map((p) => (
              <tr key={p.proxyId} data-testid={`proxy-${p.proxyId}`}>
                <td>
                  <Link href={`/workloads/${p.namespace}/${p.workload}`}>{p.proxyId}</Link>
                </td>
                <td>{p.service}</td>
                <td>
                  <span className={`state ${stateClass[p.state]}`}>{p.state}</span>
                </td>
                <td>
                  <code>{p.lastAckedVersion ?? "–"}</code>
                </td>
                <td className="num">{p.revision ?? "–"}</td>
                <td>{ago(p.lastAckedAt)}</td>
                <td className={p.lastNackReason ? "error" : "muted"} style={{ whiteSpace: "normal" }}>
                  {p.lastNackReason ?? "–"}
                </td>
                <td title={p.certificate ? `${p.certificate.spiffeId}, expires ${new Date(p.certificate.notAfter).toLocaleString()}` : "no mesh certificate (plaintext)"} className={p.certificate && new Date(p.certificate.notAfter).getTime() < Date.now() + 3_600_000 ? "error" : undefined}>
                  {p.certificate ? `expires ${until(p.certificate.notAfter)}` : <span className="muted">none</span>}
                </td>
                <td className="muted">{p.replicaId}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
