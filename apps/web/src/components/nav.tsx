"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useTRPC } from "../lib/trpc";

const LINKS = [
  { href: "/", label: "Overview" },
  { href: "/graph", label: "Graph" },
  { href: "/proxies", label: "Proxies" },
  { href: "/traces", label: "Traces" },
  { href: "/tap", label: "Live tap" },
  { href: "/security", label: "Security" },
  { href: "/canaries", label: "Canaries" },
  { href: "/history", label: "History" },
];

/** The top bar: sections, and who is signed in with which role (the role-aware UI keys off auth.me). */
export function Nav() {
  const trpc = useTRPC();
  const path = usePathname();
  const onLogin = path.startsWith("/login");
  const me = useQuery({ ...trpc.auth.me.queryOptions(), enabled: !onLogin });
  const logout = useMutation(trpc.auth.logout.mutationOptions({ onSettled: () => window.location.assign("/login") }));
  if (onLogin) return <nav className="top"><span className="brand">Trellis</span></nav>;
  return (
    <nav className="top" aria-label="sections">
      <span className="brand">Trellis</span>
      {LINKS.map((l) => (
        <Link key={l.href} href={l.href} aria-current={path === l.href || (l.href !== "/" && path.startsWith(`${l.href}/`)) ? "page" : undefined}>
          {l.label}
        </Link>
      ))}
      <span className="who" data-testid="who">
        {me.data ? (
          <>
            {me.data.username} · <span data-testid="role">{me.data.role}</span>{" "}
            <button type="button" onClick={() => logout.mutate()} disabled={logout.isPending}>
              Sign out
            </button>
          </>
        ) : (
          " "
        )}
      </span>
    </nav>
  );
}
