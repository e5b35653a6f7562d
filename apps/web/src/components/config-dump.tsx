"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../lib/trpc";

type Json = Record<string, unknown>;

const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);

/** Each part of a snapshot as a collapsible section, with a one-line summary of what is in it. */
function sections(s: Json): { key: string; title: string; summary: string; value: unknown }[] {
  const inbound = (s.inbound ?? {}) as Json;
  const outbound = (s.outbound ?? {}) as Json;
  const peer = (inbound.peerAuthentication ?? {}) as Json;
  const hosts = (outbound.hosts ?? []) as Json[];
  return [
    { key: "inbound", title: "Inbound", summary: `${count(inbound.listeners)} listeners · mTLS ${String(peer.mode ?? "–")} · ${count(inbound.authorizationPolicies)} authorization policies · ${count(inbound.jwtRules)} JWT issuers · ${count(inbound.rateLimits)} rate limits`, value: inbound },
    { key: "outbound", title: "Outbound", summary: `${hosts.length} hosts${hosts.length ? `: ${hosts.slice(0, 6).map((h) => String(h.host)).join(", ")}${hosts.length > 6 ? ", …" : ""}` : ""}`, value: outbound },
    { key: "gateways", title: "Gateways", summary: count(s.gateways) ? `${count(s.gateways)} gateways` : "none (a sidecar)", value: s.gateways ?? [] },
    { key: "tracing", title: "Tracing", summary: s.tracing ? `sampling ${String((s.tracing as Json).samplingPercent)} %` : "not set", value: s.tracing ?? null },
    { key: "trust", title: "Trust", summary: s.trust ? `trust domain ${String((s.trust as Json).trustDomain)}` : "no CA", value: s.trust ?? null },
  ];
}

/**
 * A proxy's config dump: the snapshot the control plane would send it now (`proxies.configDump`),
 * whether the proxy runs that very version, and each part as a collapsible JSON section, with a
 * download of the whole. Like `istioctl proxy-config all`.
 */
export function ConfigDump({ proxyId }: { proxyId: string }) {
  const trpc = useTRPC();
  const dump = useQuery({ ...trpc.proxies.configDump.queryOptions({ proxyId }), refetchInterval: 10_000, retry: false });
  const download = () => {
    if (!dump.data) return;
    const url = URL.createObjectURL(new Blob([JSON.stringify(dump.data.snapshot, null, 2)], { type: "application/json" }));
    const a = Object.assign(document.createElement("a"), { href: url, download: `${proxyId.replace("/", "_")}-${dump.data.version}.json` });
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <section className="panel" data-testid="config-dump" style={{ marginTop: 12 }}>
      <div style={{ display: "flex", alignItems: "center", gap: 12, marginBottom: 8 }}>
        <h2 style={{ fontSize: 16, margin: 0 }}>Config dump</h2>
        {dump.data ? (
          <>
            <span data-testid="config-dump-version">
              version <code>{dump.data.version}</code> · revision {dump.data.revision} ·{" "}
              {dump.data.inSync ? <span className="state ok">in sync</span> : <span className="state warn">proxy runs {dump.data.ackedVersion ?? "nothing yet"}</span>}
            </span>
            <button type="button" onClick={download} style={{ marginLeft: "auto" }}>
              Download JSON
            </button>
          </>
        ) : null}
      </div>
      {dump.isPending ? (
        <div className="muted" style={{ minHeight: 120 }}>
          Loading…
        </div>
      ) : dump.isError ? (
        <div className="error" role="alert">
          {dump.error.message}
        </div>
      ) : (
        sections(dump.data.snapshot).map((s) => (
          <details key={s.key} data-testid={`dump-${s.key}`} style={{ borderTop: "1px solid var(--line)", padding: "6px 0" }}>
            <summary style={{ cursor: "pointer" }}>
              <strong>{s.title}</strong> <span className="muted">{s.summary}</span>
            </summary>
            <pre style={{ maxHeight: 420, overflow: "auto", background: "var(--bg)", padding: 10, margin: "6px 0 0", fontSize: 12 }}>{JSON.stringify(s.value, null, 2)}</pre>
          </details>
        ))
      )}
    </section>
  );
}
