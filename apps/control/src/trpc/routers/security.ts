import { NameSchema } from "@trellis/config";
import { z } from "zod";
import { suggestPolicies } from "../../security/suggest-policies";
import { viewerProcedure, router } from "../trpc";

export const securityRouter = router({
  /**
   * Authorization policies that allow exactly the calls seen to the services of a namespace in
   * the last `windowSec` (from the live telemetry), offered for a preview; nothing is written.
   */
  suggest: viewerProcedure.input(z.object({ namespace: NameSchema, windowSec: z.number().int().min(10).max(86_400).default(600) }).strict()).query(async ({ ctx, input }) => {
    const [graph, resources] = await Promise.all([ctx.telemetry.graph({ kind: "service", namespaces: [input.namespace], windowSec: input.windowSec, includeIdle: true, health: { degraded: 0, failure: 0.1 } }), ctx.store.list({ namespace: input.namespace })]);
    return { windowSec: input.windowSec, ...suggestPolicies(graph, input.namespace, ctx.ca.authority.trustDomain, resources) };
  }),
});
