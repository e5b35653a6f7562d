"use client";
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { AppRouter } from "@trellis/control/router";

/** The tRPC hooks of the dashboard: `useTRPC()` gives query/mutation options for @tanstack/react-query. */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** The CSRF token the control plane set at sign-in (a readable cookie); every mutation sends it back. */
function csrfToken(): string {
  const m = /(?:^|;\s*)trellis_csrf=([^;]*)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : "";
}

/** A client over the same-origin /trpc proxy: queries and mutations over HTTP, subscriptions over SSE. */
export function makeTrpcClient() {
  const url = "/trpc";
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url }),
        false: httpLink({ url, headers: () => ({ "x-trellis-csrf": csrfToken() }) }),
      }),
    ],
  });
}
