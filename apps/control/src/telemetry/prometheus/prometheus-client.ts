import { z } from "zod";
import { redactUrl } from "../../env";
import { PrometheusError } from "./prometheus-error";

/**
 * A minimal client of Prometheus's HTTP API: range queries only (`/api/v1/query_range`,
 * POSTed so long PromQL does not hit URL limits), each bounded by a timeout, with the answer
 * validated before anything reads it. Failures are PrometheusErrors naming PROMETHEUS_URL.
 */

/** One series of a range query's matrix: its labels and its [epoch seconds, value] points. */
export interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** A range query: evaluate `query` at start, start + step, …, up to end (epoch seconds). */
export interface RangeQuery {
  query: string;
  start: number;
  end: number;
  step: number;
}

const MatrixAnswerSchema = z.object({
  status: z.literal("success"),
  data: z.object({
    resultType: z.literal("matrix"),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(z.tuple([z.number(), z.string()])) })),
  }),
});

const ErrorAnswerSchema = z.object({ status: z.literal("error"), errorType: z.string().optional(), error: z.string().optional() });

export class PrometheusClient {
  private readonly where: string;

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.where = `Prometheus at PROMETHEUS_URL=${redactUrl(baseUrl)}`;
  }

  async queryRange(q: RangeQuery): Promise<MatrixSeries[]> {
    const url = new URL("api/v1/query_range", this.baseUrl.endsWith("/") ? this.baseUrl : `${this.baseUrl}/`);
    const body = new URLSearchParams({ query: q.query, start: String(q.start), end: String(q.end), step: String(q.step) });
    let status: number;
    let text: string;
    try {
      const res = await fetch(url, { method: "POST", body, signal: AbortSignal.timeout(this.timeoutMs) });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const why = err instanceof Error && err.name === "TimeoutError" ? `did not answer within ${this.timeoutMs} ms` : `is unreachable (${describe(err)})`;
      throw new PrometheusError("TRELLIS_PROMETHEUS_UNAVAILABLE", `${this.where} ${why}; history older than the live window needs it (or unset PROMETHEUS_URL)`, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.bad(`answered HTTP ${status} with something that is not JSON (${JSON.stringify(text.slice(0, 80))}); is PROMETHEUS_URL the Prometheus server's base URL?`);
    }
    const refused = ErrorAnswerSchema.safeParse(json);
    if (refused.success) {
      const e = refused.data;
      const code = status === 503 || e.errorType === "unavailable" || e.errorType === "timeout" ? "TRELLIS_PROMETHEUS_UNAVAILABLE" : "TRELLIS_PROMETHEUS_BAD_RESPONSE";
      throw new PrometheusError(code, `${this.where} refused the query with HTTP ${status} (${e.errorType ?? "error"}: ${e.error ?? "no message"}); query: ${q.query}`);
    }
    const answer = MatrixAnswerSchema.safeParse(json);
    if (!answer.success) {
      const issue = answer.error.issues[0];
      throw this.bad(`answered HTTP ${status} with JSON that is not a range-query result (${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "unexpected shape"}); is PROMETHEUS_URL the Prometheus server's base URL?`);
    }
    return answer.data.data.result;
  }

  private bad(what: string): PrometheusError {
    return new PrometheusError("TRELLIS_PROMETHEUS_BAD_RESPONSE", `${this.where} ${what}`);
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause && typeof cause.code === "string") return `${cause.code}${typeof cause.message === "string" ? `: ${cause.message}` : ""}`;
  return err.message;
}
