"use client";
import { HTTP_METHODS } from "../lib/format";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { FormEvent } from "react";
import type { Change } from "./change-preview";
import { useTRPC } from "../lib/trpc";

/**
 * What-if: describe a request (caller, host, method, path, headers, a JWT's issuer, subject and
 * claims) and see the route and subsets it takes and whether each destination lets it in —
 * answered by the control plane with the code the proxies run, against the config as it is or,
 * when `change` is given, as the unsaved edit would make it.
 */
export function WhatIfBox(props: { defaultAuthority: string; change?: Change | undefined; namespace?: string }) {
  const trpc = useTRPC();
  const proxies = useQuery(trpc.proxies.status.queryOptions(props.namespace ? { namespace: props.namespace } : {}));
  const ask = useMutation(trpc.whatIf.evaluate.mutationOptions());
  const [form, setForm] = useState({ source: "", authority: props.defaultAuthority, method: "GET", path: "/", headers: "", issuer: "", subject: "", claims: "", proposed: true });
  const [inputError, setInputError] = useState<string | undefined>();
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const source = form.source || proxies.data?.[0]?.proxyId || "";
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setInputError(undefined);
    const headers: Record<string, string> = {};
    for (const line of form.headers.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const colon = line.indexOf(":");
      if (colon < 1) return setInputError(`header '${line}' must be name: value`);
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let claims: Record<string, unknown> = {};
    if (form.claims.trim()) {
      try {
        claims = JSON.parse(form.claims) as Record<string, unknown>;
      } catch {
        return setInputError("claims must be a JSON object, e.g. {\"groups\": [\"admin\"]}");
      }
    }
    ask.mutate({
      source,
      authority: form.authority,
      method: form.method,
      path: form.path,
      headers,
      ...(form.issuer ? { jwt: { issuer: form.issuer, subject: form.subject || "anonymous", claims } } : {}),
      ...(props.change && form.proposed ? { change: props.change } : {}),
    });
  };
  const a = ask.data;
  return (
    <section className="panel" data-testid="what-if">
      <h2 style={{ fontSize: 15, marginTop: 0 }}>What if…</h2>
      <form onSubmit={submit} aria-label="what-if request">
        <div className="form-row">
          <label>
            from (proxy)
            <select name="source" value={source} onChange={set("source")}>
              {(proxies.data ?? []).map((p) => (
                <option key={p.proxyId} value={p.proxyId}>
                  {p.proxyId}
                </option>
              ))}
            </select>
          </label>
          <label>
            host
            <input name="authority" value={form.authority} onChange={set("authority")} size={16} />
          </label>
          <label>
            method
            <select name="method" value={form.method} onChange={set("method")}>
              {HTTP_METHODS.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </label>
          <label>
            path
            <input name="path" value={form.path} onChange={set("path")} size={22} />
          </label>
        </div>
        <div className="form-row">
          <label>
            headers (name: value per line)
            <textarea name="headers" value={form.headers} onChange={set("headers")} rows={2} cols={28} />
          </label>
          <label>
            JWT issuer
            <input name="issuer" value={form.issuer} onChange={set("issuer")} size={20} placeholder="none" />
          </label>
          <label>
            subject
            <input name="subject" value={form.subject} onChange={set("subject")} size={10} />
          </label>
          <label>
            claims (JSON)
            <input name="claims" value={form.claims} onChange={set("claims")} size={16} />
          </label>
        </div>
        <div className="form-row">
          {props.change ? (
            <label style={{ display: "flex", gap: 4, alignItems: "center" }}>
              <input type="checkbox" checked={form.proposed} onChange={(e) => setForm({ ...form, proposed: e.target.checked })} /> with the unsaved edit
            </label>
          ) : null}
          <button type="submit" disabled={!source || ask.isPending}>
            Evaluate
          </button>
        </div>
      </form>
      {inputError ? <p className="error" role="alert">{inputError}</p> : null}
      {ask.isError ? <p className="error" role="alert">{ask.error.message}</p> : null}
      {a ? (
        <div data-testid="what-if-answer" aria-live="polite">
          <p style={{ overflowWrap: "anywhere" }}>
            <span className={`state ${a.allowed ? "ok" : "bad"}`}>{a.allowed ? "allowed" : a.outcome === "routed" ? "denied" : a.outcome}</span> {a.message}
            {a.proposed ? <span className="muted"> (with the unsaved edit)</span> : null}
          </p>
          {a.destinations.length ? (
            <table style={{ fontSize: 13, tableLayout: "fixed" }}>
              <thead>
                <tr>
                  <th style={{ width: "24%" }}>destination</th>
                  <th className="num" style={{ width: 70 }}>share</th>
                  <th style={{ width: 130 }}>mTLS</th>
                  <th style={{ width: 130 }}>answer</th>
                  <th>why</th>
                </tr>
              </thead>
              <tbody>
                {a.destinations.map((d, i) => (
                  <tr key={i}>
                    <td style={{ whiteSpace: "normal", overflowWrap: "anywhere" }}>
                      {d.host}
                      {d.subset ? ` / ${d.subset}` : ""}:{d.port}
                    </td>
                    <td className="num">{Math.round(d.share * 100)} %</td>
                    <td>{d.mtls ? "yes" : "no"}{d.peerAuthentication ? ` (${d.peerAuthentication})` : ""}</td>
                    <td className={d.refusedWith ? "error" : undefined}>{d.refusedWith ?? "reaches the app"}</td>
                    <td style={{ whiteSpace: "normal" }}>{d.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
