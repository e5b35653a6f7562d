/**
 * Child-process entry of the fixed-rate load generator, so its CPU is its own (measured and
 * reported as the load tool's) and the orchestrator's /proc sampling does not share its event
 * loop. argv[2]: FixedRateOptions as JSON. Prints `{"event":"start"}` and `{"event":"end"}` lines
 * when the measured window opens and closes (the orchestrator reads the targets' CPU then),
 * and finally `{"event":"result",...FixedRateResult}`.
 */
import { runFixedRate } from "./fixed-rate";
import type { FixedRateOptions } from "./fixed-rate";

const opts = JSON.parse(process.argv[2] ?? "{}") as FixedRateOptions;
const result = await runFixedRate(opts, (edge) => process.stdout.write(JSON.stringify({ event: edge }) + "\n"));
process.stdout.write(JSON.stringify({ event: "result", ...result }) + "\n");
process.exit(0);
