import type { Endpoint, Resource } from "@trellis/config";
import type { LiveWindow } from "../telemetry/live/live-window";
import type { SlotSource } from "../telemetry/live/window-query";
import { badgesAppender } from "./badges-appender";
import { healthAppender } from "./health-appender";
import { idleAppender } from "./idle-appender";
import { trafficAppender } from "./traffic-appender";
import type { Appender, Graph, GraphContext, GraphQuery } from "./types";

/** The pipeline, in order: traffic makes the nodes and edges, the rest decorate them. */
export const APPENDERS: readonly Appender[] = [trafficAppender, idleAppender, healthAppender, badgesAppender];

/** Builds the graph of `query` from the live window and the config; pure over its inputs. */
export function buildGraph(window: LiveWindow | SlotSource, resources: readonly Resource[], endpoints: readonly Endpoint[], query: GraphQuery): Graph {
  const started = performance.now();
  const toSec = query.until !== undefined ? Math.floor(query.until / 1000) : window.lastCompleteSecond + 1;
  const range = { fromSec: toSec - query.windowSec, toSec };
  const ctx: GraphContext = { query, range, seconds: query.windowSec, window, resources, endpoints, nodes: new Map(), edgeSums: new Map() };
  for (const append of APPENDERS) append(ctx);
  const nodes = [...ctx.nodes.values()].sort((a, b) => compareIds(a.id, b.id));
  const edges = [...ctx.edgeSums.values()].map((e) => e.edge).sort((a, b) => compareIds(a.id, b.id));
  return { kind: query.kind, from: range.fromSec * 1000, to: range.toSec * 1000, nodes, edges, buildMs: Math.round((performance.now() - started) * 100) / 100 };
}

/** Code-unit order: stable across locales, and a plain comparison (localeCompare's collation cost most of a 5000-edge sort). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
