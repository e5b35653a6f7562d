import { authRouter } from "./routers/auth";
import { caRouter } from "./routers/ca";
import { securityRouter } from "./routers/security";
import { canariesRouter } from "./routers/canaries";
import { graphRouter } from "./routers/graph";
import { metricsRouter } from "./routers/metrics";
import { resourcesRouter } from "./routers/resources";
import { revisionsRouter } from "./routers/revisions";
import { proxiesRouter, servicesRouter } from "./routers/services";
import { tapRouter } from "./routers/tap";
import { tracesRouter } from "./routers/traces";
import { whatIfRouter } from "./routers/whatif";
import { router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  resources: resourcesRouter,
  revisions: revisionsRouter,
  services: servicesRouter,
  proxies: proxiesRouter,
  graph: graphRouter,
  metrics: metricsRouter,
  tap: tapRouter,
  traces: tracesRouter,
  ca: caRouter,
  whatIf: whatIfRouter,
  canaries: canariesRouter,
  security: securityRouter,
});

/** The API's type, imported (type-only) by the dashboard and the CLI. */
export type AppRouter = typeof appRouter;
