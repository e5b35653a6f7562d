"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { use } from "react";
import { ConfigDump } from "../../../../components/config-dump";
import { SignalsPanel } from "../../../../components/signals-panel";
import { useTRPC } from "../../../../lib/trpc";
import { ago, until } from "../../../../lib/format";

/** One workload (one proxy): its golden signals inbound and outbound, its config sync and certificate, its config dump. */
export default function WorkloadPage({ params }: { params: Promise<{ namespace: string; name: string }> }) {
  const { namespace, name } = use(params);
  const trpc = useTRPC();
  const status = useQuery({ ...trpc.proxies.status.queryOptions({ namespace }), refetchInterval: 5_000 });
  const me = status.data?.find((p) => p.proxyId === `${namespace}/${name}`);
  return (
    <>
      <h1>
        <Link href="/proxies">Proxies</Link> / {namespace} / {name}
      </h1>
      <div className="panel" data-testid="workload-proxy" style={{ marginBottom: 12 }}>
        {status.isPending ? (
          <span className="muted">Loading…</span>
        ) : status.isError ? (
          <span className="error" role="alert">
            {status.error.message}
          </span>
        ) : !me ? (
          <span className="muted">No proxy named {namespace}/{name} is connected.</span>
        ) : (
          <span>
            Service <Link href={`/services/${namespace}/${me.service}`}>{me.service}</Link> · {me.state} · version <code>{me.lastAckedVersion ?? "–"}</code> (revision {me.revision ?? "–"}) · last ACK {ago(me.lastAckedAt)} · certificate {me.certificate ? `expires ${until(me.certificate.notAfter)}` : "none"}
            {me.lastNackReason ? <span className="error"> · last NACK: {me.lastNackReason}</span> : null}
          </span>
        )}
      </div>
      <SignalsPanel scope="workload" namespace={namespace} name={name} third="inFlight" />
      <ConfigDump proxyId={`${namespace}/${name}`} />
    </>
  );
}
