"use client";
import { useMutation } from "@tanstack/react-query";
import { Suspense, useState } from "react";
import type { FormEvent } from "react";
import { useSearchParams } from "next/navigation";
import { useTRPC } from "../../lib/trpc";

function LoginForm() {
  const trpc = useTRPC();
  const next = useSearchParams().get("next");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      // Only same-site paths: never bounce a signed-in user to another origin.
      onSuccess: () => window.location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/"),
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate({ username, password });
  };
  const retryAfter = (login.error?.data as { retryAfterS?: number } | undefined)?.retryAfterS;
  return (
    <form className="login panel" onSubmit={submit} aria-label="sign in">
      <h1>Sign in to Trellis</h1>
      <label>
        Username
        <br />
        <input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
      </label>
      <label>
        Password
        <br />
        <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <button type="submit" disabled={login.isPending}>
        {login.isPending ? "Signing in…" : "Sign in"}
      </button>
      <p role="alert" className="error" style={{ minHeight: "1.5em", margin: 0 }}>
        {login.error ? (retryAfter ? `Too many attempts; try again in ${retryAfter} s.` : login.error.message) : ""}
      </p>
    </form>
  );
}

export default function LoginPage() {
  return (
    <Suspense fallback={<div className="skeleton" />}>
      <LoginForm />
    </Suspense>
  );
}
