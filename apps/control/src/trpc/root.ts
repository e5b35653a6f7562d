import { resourcesRouter } from "./routers/resources";
import { revisionsRouter } from "./routers/revisions";
import { proxiesRouter, servicesRouter } from "./routers/services";
import { router } from "./trpc";

export const appRouter = router({
  resources: resourcesRouter,
  revisions: revisionsRouter,
  services: servicesRouter,
  proxies: proxiesRouter,
});

/** The API's type, imported (type-only) by the dashboard and the CLI. */
export type AppRouter = typeof appRouter;
