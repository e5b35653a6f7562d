import assert from "node:assert/strict";
import { it } from "node:test";
import { createLogger } from "../log";
import { connectWithRetry } from "./connect-retry";
import { DatabaseUnavailableError } from "./errors";

it("backs off exponentially up to the cap and succeeds once the probe does", async () => {
  const lines: string[] = [];
  const log = createLogger("debug", {}, (l) => lines.push(JSON.parse(l).msg));
  let calls = 0;
  const result = await connectWithRetry(
    async () => {
      if (++calls < 6) throw Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:5432"), { code: "ECONNREFUSED" });
      return "up";
    },
    { target: "10.0.0.1:5432", log, initialDelayMs: 1, maxDelayMs: 4 },
  );
  assert.equal(result, "up");
  assert.deepEqual(lines.slice(0, 5).map((l) => l.replace(/.*retrying in /, "")), ["0.001s", "0.002s", "0.004s", "0.004s", "0.004s"]);
  assert.equal(lines[0], "database unreachable at 10.0.0.1:5432: connect ECONNREFUSED 10.0.0.1:5432; retrying in 0.001s");
  assert.equal(lines[5], "database reachable again");
});

it("gives up after the given attempts, or when aborted", async () => {
  const fail = async () => {
    throw new Error("nope");
  };
  await assert.rejects(connectWithRetry(fail, { target: "h:1", attempts: 2, initialDelayMs: 1 }), DatabaseUnavailableError);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(connectWithRetry(fail, { target: "h:1", initialDelayMs: 5_000, signal: ac.signal }), /database unreachable at h:1: nope/);
});
