"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../lib/trpc";
import { ago } from "../../lib/format";

const stateClass = { SYNCED: "ok", STALE: "warn", NACKED: "bad" } as const;

/** Every proxy's config sync: SYNCED / STALE / NACKED, the version it runs, its last ACK and NACK reason. */
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
              <th>replica</th>
            </tr>
          </thead>
          <tbody>
            {status.data.map((p) => (
              <tr key={p.proxyId} data-testid={`proxy-${p.proxyId}`}>
                <td>{p.proxyId}</td>
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
                <td className="muted">{p.replicaId}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
