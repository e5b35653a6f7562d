"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "./trpc";

const RANK = { viewer: 1, operator: 2, admin: 3 } as const;

/**
 * Whether the signed-in user's role reaches `need`: edit controls render only then. The
 * server checks the role on every call anyway; this only keeps viewers from seeing buttons
 * that would be refused.
 */
export function useCan(need: keyof typeof RANK): boolean {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  return me.data ? RANK[me.data.role] >= RANK[need] : false;
}

/** The signed-in user's role, or undefined while it is loading (pages wait for it, so edit controls do not pop in). */
export function useRole(): keyof typeof RANK | undefined {
  const trpc = useTRPC();
  return useQuery(trpc.auth.me.queryOptions()).data?.role;
}
