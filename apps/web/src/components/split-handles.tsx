"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { HttpRouteRule } from "@trellis/config";
import Link from "next/link";
import { useEffect, useState } from "react";
import { useCan } from "../lib/me";
import { useTRPC } from "../lib/trpc";
import { Problems, usePreview } from "./change-preview";
import type { Change } from "./change-preview";
import { WeightsEditor } from "./weights-editor";

interface RouteResource {
  kind: "Route";
  metadata: { name: string; namespace: string };
  spec: { hosts: string[]; http: HttpRouteRule[] };
}

/**
 * The canary handles of a service's split, where the graph shows it: the first rule of its
 * Route that splits over several destinations, with the weights editor and a Save (operators;
 * viewers see the weights). The full editor is a link away.
 */
export function SplitHandles({ namespace, service }: { namespace: string; service: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const canEdit = useCan("operator");
  const list = useQuery(trpc.resources.list.queryOptions({ namespace, kind: "Route" }));
  const route = (list.data?.items ?? []).find((r) => ((r.spec as { hosts: string[] }).hosts ?? []).some((h) => h === service || h === `${service}.${namespace}`)) as unknown as RouteResource | undefined;
  const ruleIndex = route ? route.spec.http.findIndex((r) => r.route.length > 1) : -1;
  const rule = route && ruleIndex >= 0 ? route.spec.http[ruleIndex]! : undefined;
  const stored = rule ? rule.route.map((d) => d.weight ?? 0) : [];
  const [weights, setWeights] = useState<number[]>(stored);
  useEffect(() => setWeights(stored), [stored.join()]);
  const write = useMutation(trpc.resources.write.mutationOptions({ onSuccess: () => void qc.invalidateQueries({ queryKey: trpc.resources.list.queryKey() }) }));
  const dirty = weights.join() !== stored.join();
  const edited = route && rule && dirty ? { ...route, spec: { ...route.spec, http: route.spec.http.map((r, i) => (i === ruleIndex ? { ...r, route: r.route.map((d, j) => ({ ...d, weight: weights[j]! })) } : r)) } } : undefined;
  // The same preview as the full editor: findings (errors block saving) and the proxies reached.
  const change: Change | undefined = edited ? { upserts: [edited as never], deletes: [] } : undefined;
  const { preview, problems, pending } = usePreview(change);
  if (!rule || !route || !list.data) return null;
  const save = () => {
    if (!edited) return;
    write.mutate({ baseRevision: preview?.baseRevision ?? list.data.revision, upserts: [edited as never], message: `${service}: split ${rule.route.map((d, j) => `${d.destination.subset ?? d.destination.host} ${weights[j]}`).join(" / ")}` });
  };
  const blocked = problems.some((p) => p.severity === "error");
  return (
    <div data-testid="split-handles" style={{ borderTop: "1px solid var(--line)", marginTop: 10, paddingTop: 8 }}>
      <h3 style={{ fontSize: 14, margin: "0 0 6px" }}>
        Split of {service} <span className="muted">({rule.name ?? `rule ${ruleIndex + 1}`})</span>
      </h3>
      <WeightsEditor testId="split-weights" labels={rule.route.map((d) => d.destination.subset ?? d.destination.host)} weights={weights} disabled={!canEdit} onChange={setWeights} />
      {canEdit ? (
        <div style={{ display: "flex", gap: 8, marginTop: 6, alignItems: "center" }}>
          <button type="button" disabled={!dirty || blocked || pending || write.isPending} onClick={save}>
            Save split
          </button>
          {dirty && preview ? <span className="muted" style={{ fontSize: 13 }}>{preview.changed.length} of {preview.proxies} proxies get a new snapshot</span> : null}
          <span role="status" className={write.isError ? "error" : "muted"} style={{ fontSize: 13 }}>
            {write.isError ? write.error.message : write.isSuccess && !dirty ? `saved as revision ${write.data.revision}` : ""}
          </span>
        </div>
      ) : null}
      {dirty ? <Problems list={problems} /> : null}
      <p style={{ margin: "6px 0 0", fontSize: 13 }}>
        <Link href={`/services/${namespace}/${service}/traffic`}>full traffic editor, with preview and what-if</Link>
      </p>
    </div>
  );
}
