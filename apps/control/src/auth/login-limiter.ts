/**
 * Sign-in throttling: failed attempts are counted per username and per client address in a
 * window; past the limit that key is refused (without checking the password) until the window
 * that holds its failures has passed. A success clears the username's count. In memory, per
 * replica: an attacker spreading guesses over N replicas gets N times the budget, still a few
 * guesses a minute against an scrypt hash.
 */
export interface LoginLimits {
  /** Failures allowed per username in `windowMs`. */
  perUser: number;
  /** Failures allowed per client address in `windowMs` (several users behind one NAT). */
  perAddress: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perUser: 5, perAddress: 20, windowMs: 5 * 60_000 };

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until another attempt is allowed for this username and address; 0 = now. */
  retryAfterMs(username: string, address: string): number {
    return Math.max(this.wait(`u:${username}`, this.limits.perUser), this.wait(`a:${address}`, this.limits.perAddress));
  }

  failed(username: string, address: string): void {
    for (const key of [`u:${username}`, `a:${address}`]) {
      const list = this.recent(key);
      list.push(this.now());
      this.failures.set(key, list);
    }
    if (this.failures.size > 100_000) this.prune();
  }

  succeeded(username: string): void {
    this.failures.delete(`u:${username}`);
  }

  private wait(key: string, limit: number): number {
    const list = this.recent(key);
    if (list.length < limit) return 0;
    return list[list.length - limit]! + this.limits.windowMs - this.now();
  }

  private recent(key: string): number[] {
    const since = this.now() - this.limits.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private prune(): void {
    for (const key of [...this.failures.keys()]) if (this.recent(key).length === 0) this.failures.delete(key);
  }
}
