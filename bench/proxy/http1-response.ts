/**
 * An incremental HTTP/1.1 response reader for the fixed-rate load generator: bytes in, whole
 * responses (status, body length) out. Handles Content-Length, chunked bodies (trailers
 * skipped) and bodiless statuses; nothing else (no close-delimited bodies: every target here
 * keeps connections alive, and a response without a length is reported as an error).
 *
 * Not a general parser: it trusts the peer to speak HTTP/1.1 and keeps only what a latency
 * measurement needs. One instance per connection; responses arrive in request order.
 */

export interface ParsedResponse {
  status: number;
  bodyBytes: number;
}

/** The response could not be read; the connection is unusable. */
export class ResponseParseError extends Error {
  readonly code = "TRELLIS_BENCH_BAD_RESPONSE";
}

const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");

type State = { at: "head" } | { at: "body"; left: number } | { at: "chunk-size" } | { at: "chunk-data"; left: number } | { at: "trailers" };

export class Http1ResponseReader {
  private buf: Buffer = Buffer.alloc(0);
  private state: State = { at: "head" };
  private status = 0;
  private bodyBytes = 0;

  /** Feeds bytes; returns the responses completed by them, in order. Throws ResponseParseError. */
  feed(chunk: Buffer): ParsedResponse[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const done: ParsedResponse[] = [];
    for (;;) {
      const s = this.state;
      if (s.at === "head") {
        const end = this.buf.indexOf(HEAD_END);
        if (end < 0) return done;
        this.startResponse(this.buf.toString("latin1", 0, end));
        this.buf = this.buf.subarray(end + 4);
      } else if (s.at === "body" || s.at === "chunk-data") {
        const take = Math.min(s.left, this.buf.length);
        s.left -= take;
        this.bodyBytes += take;
        this.buf = this.buf.subarray(take);
        if (s.left > 0) return done;
        if (s.at === "body") done.push(this.finish());
        else {
          if (this.buf.length < 2) return done; // wait for the CRLF after the chunk
          this.buf = this.buf.subarray(2);
          this.state = { at: "chunk-size" };
        }
      } else if (s.at === "chunk-size") {
        const eol = this.buf.indexOf(CRLF);
        if (eol < 0) return done;
        const line = this.buf.toString("latin1", 0, eol).split(";")[0]!.trim();
        if (!/^[0-9a-fA-F]+$/.test(line)) throw new ResponseParseError(`bad chunk size line ${JSON.stringify(line)}`);
        const size = parseInt(line, 16);
        this.buf = this.buf.subarray(eol + 2);
        this.state = size === 0 ? { at: "trailers" } : { at: "chunk-data", left: size };
      } else {
        const eol = this.buf.indexOf(CRLF);
        if (eol < 0) return done;
        this.buf = this.buf.subarray(eol + 2);
        if (eol === 0) done.push(this.finish()); // the empty line ends the trailers
      }
    }
  }

  private startResponse(head: string): void {
    const lines = head.split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
    if (!m) throw new ResponseParseError(`bad status line ${JSON.stringify(lines[0])}`);
    this.status = Number(m[1]);
    this.bodyBytes = 0;
    let length: number | undefined;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") length = Number(value);
      else if (name === "transfer-encoding" && /chunked/i.test(value)) chunked = true;
    }
    if (this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200)) this.state = { at: "body", left: 0 };
    else if (chunked) this.state = { at: "chunk-size" };
    else if (length !== undefined && Number.isInteger(length) && length >= 0) this.state = { at: "body", left: length };
    else throw new ResponseParseError(`response ${this.status} has neither Content-Length nor chunked encoding`);
  }

  private finish(): ParsedResponse {
    this.state = { at: "head" };
    return { status: this.status, bodyBytes: this.bodyBytes };
  }
}
