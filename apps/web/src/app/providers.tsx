"use client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";
import { useState } from "react";
import type { ReactNode } from "react";
import { makeTrpcClient, TRPCProvider } from "../lib/trpc";
import type { AppRouter } from "@trellis/control/router";

function isUnauthorized(err: unknown): boolean {
  return err instanceof TRPCClientError && (err as TRPCClientError<AppRouter>).data?.code === "UNAUTHORIZED";
}

/** React Query + tRPC for every page. A 401 anywhere sends the browser to the sign-in page. */
export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: { retry: (n, err) => !isUnauthorized(err) && n < 2, refetchOnWindowFocus: false, staleTime: 2_000 },
        },
      }),
  );
  const [trpcClient] = useState(makeTrpcClient);
  queryClient.getQueryCache().config.onError = (err) => {
    if (isUnauthorized(err) && !window.location.pathname.startsWith("/login")) window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
  };
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
