/**
 * Things to undo when the benchmark ends, however it ends (success, failure, overall timeout,
 * Ctrl-C): stop child processes, drop the database. Run in reverse order of registration,
 * each step bounded in time so cleanup itself can never hang.
 */
export class Cleanup {
  private readonly steps: { name: string; fn: () => unknown }[] = [];
  private running: Promise<void> | undefined;

  /** Registers a step; returns a function that runs it now (and only once) instead of at the end. */
  add(name: string, fn: () => unknown): () => Promise<void> {
    const step = { name, fn };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i < 0) return;
      this.steps.splice(i, 1);
      await runStep(step);
    };
  }

  /** Runs every remaining step, newest first; safe to call more than once. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) await runStep(step);
    })();
    return this.running;
  }
}

async function runStep(step: { name: string; fn: () => unknown }, timeoutMs = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(step.fn),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (err) {
    process.stderr.write(`cleanup: ${step.name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  } finally {
    clearTimeout(timer);
  }
}
