import type { IncomingMessage, ServerResponse } from "node:http";
import { gunzip } from "node:zlib";
import type { Logger } from "../../log";
import { decodeJson, decodeProtobuf, OtlpPayloadError } from "./otlp-decode";
import type { SpanRow } from "./span-row";

/**
 * The OTLP/HTTP trace receiver, `POST /v1/traces`, as the OpenTelemetry collector's: bodies
 * in `application/x-protobuf` or `application/json`, optionally gzip-encoded. Answers:
 * 200 with an empty ExportTraceServiceResponse once the spans are stored; 400 for a payload
 * that is not a valid export (the message names the field); 413 over the size limit
 * (counted before and after gunzip); 415 for another content type or encoding; 405 for
 * another method; 503 when the database cannot take them (the OTLP exporters retry that).
 * Error bodies are a google.rpc.Status as JSON (`{"code":3,"message":…}`), readable as is.
 * Every refusal is counted by reason (stats, shown by the `traces.stats` API).
 */

export interface OtlpReceiverOptions {
  store: { insert(rows: readonly SpanRow[]): Promise<void> };
  /** Largest body accepted, compressed or not (TRELLIS_OTLP_MAX_BODY_BYTES). */
  maxBodyBytes: number;
  log: Logger;
}

/** What the receiver has seen since start. */
export interface OtlpReceiverStats {
  /** Export requests received (any outcome). */
  requests: number;
  /** Spans stored. */
  spansAccepted: number;
  /** Requests refused, by reason. */
  refused: { malformed: number; tooLarge: number; unsupportedMediaType: number; methodNotAllowed: number; storeFailed: number };
  /** The latest refusal, for an operator wondering why a sender's spans are missing. */
  lastRefusal: { at: string; status: number; reason: string } | null;
}

type Format = "protobuf" | "json";

// google.rpc.Code values used in the error bodies.
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;
const UNIMPLEMENTED = 12;

export class OtlpReceiver {
  private readonly counts: OtlpReceiverStats = {
    requests: 0,
    spansAccepted: 0,
    refused: { malformed: 0, tooLarge: 0, unsupportedMediaType: 0, methodNotAllowed: 0, storeFailed: 0 },
    lastRefusal: null,
  };

  constructor(private readonly opts: OtlpReceiverOptions) {}

  get stats(): OtlpReceiverStats {
    return { ...this.counts, refused: { ...this.counts.refused } };
  }

  /** Serves one request on /v1/traces; never throws. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.counts.requests++;
    this.serve(req, res).catch((err: unknown) => {
      this.opts.log.error("OTLP receiver failed", { cause: String((err as Error)?.stack ?? err) });
      if (!res.headersSent) this.refuse(res, 500, "storeFailed", UNAVAILABLE, "internal error");
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      req.resume();
      return this.refuse(res, 405, "methodNotAllowed", UNIMPLEMENTED, `method ${req.method ?? "?"} is not allowed on /v1/traces; POST an ExportTraceServiceRequest`);
    }
    const format = formatOf(req.headers["content-type"]);
    const encoding = String(req.headers["content-encoding"] ?? "identity").toLowerCase();
    if (!format || (encoding !== "identity" && encoding !== "gzip")) {
      req.resume();
      const what = !format ? `content type ${JSON.stringify(req.headers["content-type"] ?? "")}` : `content encoding ${JSON.stringify(encoding)}`;
      return this.refuse(res, 415, "unsupportedMediaType", INVALID_ARGUMENT, `unsupported ${what}: send application/x-protobuf or application/json, optionally gzip-encoded`);
    }
    const max = this.opts.maxBodyBytes;
    const tooLarge = () => this.refuse(res, 413, "tooLarge", RESOURCE_EXHAUSTED, `the body is larger than ${max} bytes; send smaller batches`, true);
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > max) {
      req.resume();
      return tooLarge();
    }
    let body = await readBody(req, max);
    if (body === undefined) return tooLarge();
    if (encoding === "gzip") {
      try {
        body = await gunzipLimited(body, max);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") return tooLarge();
        return this.refuse(res, 400, "malformed", INVALID_ARGUMENT, `the gzip body could not be decompressed: ${(err as Error).message}`);
      }
    }
    let rows: SpanRow[];
    try {
      rows = format === "protobuf" ? decodeProtobuf(body) : decodeJson(body);
    } catch (err) {
      if (!(err instanceof OtlpPayloadError)) throw err;
      return this.refuse(res, 400, "malformed", INVALID_ARGUMENT, `malformed OTLP trace export (${format}): ${err.message}`);
    }
    try {
      await this.opts.store.insert(rows);
    } catch (err) {
      this.opts.log.warn("could not store spans; the sender may retry", { spans: rows.length, cause: (err as Error).message });
      return this.refuse(res, 503, "storeFailed", UNAVAILABLE, "the span store is unavailable; retry later");
    }
    this.counts.spansAccepted += rows.length;
    // An empty ExportTraceServiceResponse: no bytes in protobuf, `{}` in JSON.
    if (format === "protobuf") res.writeHead(200, { "content-type": "application/x-protobuf", "content-length": "0" }).end();
    else res.writeHead(200, { "content-type": "application/json" }).end("{}");
  }

  private refuse(res: ServerResponse, status: number, reason: keyof OtlpReceiverStats["refused"], code: number, message: string, close = false): void {
    this.counts.refused[reason]++;
    this.counts.lastRefusal = { at: new Date().toISOString(), status, reason: message };
    if (status === 400) this.opts.log.debug("OTLP export refused", { status, reason: message });
    const headers: Record<string, string> = { "content-type": "application/json" };
    // The rest of an oversized body is not read: close rather than drain it.
    if (close) headers["connection"] = "close";
    res.writeHead(status, headers).end(JSON.stringify({ code, message }));
  }
}

function formatOf(contentType: string | undefined): Format | undefined {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/x-protobuf" || type === "application/protobuf") return "protobuf";
  if (type === "application/json") return "json";
  return undefined;
}

/** The body, or undefined as soon as it passes `max` bytes (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.off("data", onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(c);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks, size)));
    req.once("error", reject);
  });
}

/** gunzip refusing to inflate past `max` bytes (a small bomb must not take the heap). */
function gunzipLimited(body: Buffer, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => gunzip(body, { maxOutputLength: max }, (err, out) => (err ? reject(err) : resolve(out))));
}
