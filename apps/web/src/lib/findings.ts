"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPCClient } from "./trpc";

/** The validation findings of the mesh as it is (analyze with no change: a dry run, writing nothing), shared by every page. */
export function useFindings() {
  const client = useTRPCClient();
  return useQuery({ queryKey: ["findings"], queryFn: () => client.resources.analyze.mutate({ upserts: [], deletes: [] }), refetchInterval: 30_000 });
}
