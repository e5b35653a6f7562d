import { PassThrough, Transform } from "node:stream";
import type { Readable } from "node:stream";

/** Bodies up to this size are kept for retries and mirroring (Envoy's per-request buffer limit). */
export const DEFAULT_REPLAY_LIMIT = 64 * 1024;

/**
 * A request body streamed from downstream, which layers that may send it more than once
 * (retries, mirroring) ask to keep with `keepForReplay()`.
 *
 * Without that call `open()` hands out the downstream stream itself: zero copies, and only one
 * attempt can ever send it. With it, chunks flow through a recorder that forwards them to the
 * current attempt's stream (with backpressure: the downstream is paused while the attempt's
 * stream is full) and keeps a copy until `limit` bytes; a larger body stops being replayable
 * but still streams with bounded memory. A new `open()` moves the recorder to a fresh stream
 * that first replays what was recorded. Safe use: call `replayable` before a second `open()`.
 */
export class RequestBody {
  private recording = false;
  private started = false;
  private ended = false;
  private overflowed = false;
  private recorded: Buffer[] = [];
  private recordedBytes = 0;
  private current: PassThrough | undefined;
  private waiters: Array<(chunks: Buffer[] | null) => void> = [];
  /** Bytes read from downstream so far. */
  bytes = 0;

  constructor(
    private readonly source: Readable | null,
    /** Declared length (Content-Length), if any. */
    readonly length: number | undefined = undefined,
    private readonly limit = DEFAULT_REPLAY_LIMIT,
  ) {}

  /** A body-less request: one shared instance, which nothing changes (it has no stream to read or record). */
  static empty(): RequestBody {
    return EMPTY;
  }

  /** Whether there is a body stream at all. */
  get present(): boolean {
    return this.source !== null;
  }

  /** Ask for the body to be kept (up to the limit) so it can be sent again. Call before the first open(). */
  keepForReplay(): void {
    if (!this.started && this.source !== null) this.recording = true;
  }

  /** Whether another `open()` can send the whole body again. */
  get replayable(): boolean {
    if (this.source === null || !this.started) return true;
    return this.recording && !this.overflowed;
  }

  /** The body for one attempt (null: none). Throws if it was already consumed and is not replayable. */
  open(): Readable | null {
    if (this.source === null) return null;
    if (!this.recording) {
      if (this.started) throw new Error("request body already consumed and not kept for replay");
      this.started = true;
      // Counted on the way through; the Transform keeps backpressure end to end.
      const counter = new Transform({
        transform: (chunk: Buffer, _enc, cb) => {
          this.bytes += chunk.length;
          cb(null, chunk);
        },
      });
      this.source.once("error", (err) => counter.destroy(err));
      return this.source.pipe(counter);
    }
    if (this.started && this.overflowed) throw new Error("request body larger than the replay buffer");
    const out = new PassThrough();
    for (const c of this.recorded) out.write(c);
    if (this.ended) out.end();
    this.current = out;
    if (!this.started) this.startRecording();
    else if (this.source.isPaused() && !this.ended) this.source.resume();
    return out;
  }

  /** Resolves with the whole body once downstream finished, or null if it was too large to keep or failed. */
  whenComplete(): Promise<Buffer[] | null> {
    if (this.source === null) return Promise.resolve([]);
    if (this.ended) return Promise.resolve(this.overflowed ? null : this.recorded);
    if (this.overflowed || !this.recording) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private startRecording(): void {
    const source = this.source!;
    this.started = true;
    source.on("data", (chunk: Buffer) => {
      this.bytes += chunk.length;
      if (!this.overflowed) {
        if (this.recordedBytes + chunk.length > this.limit) {
          this.overflowed = true;
          this.recorded = [];
          this.recordedBytes = 0;
          this.settle(null);
        } else {
          this.recorded.push(chunk);
          this.recordedBytes += chunk.length;
        }
      }
      const target = this.current;
      if (target && !target.destroyed && !target.write(chunk)) {
        source.pause();
        target.once("drain", () => {
          if (this.current === target) source.resume();
        });
      }
    });
    source.once("end", () => {
      this.ended = true;
      this.current?.end();
      this.settle(this.overflowed ? null : this.recorded);
    });
    source.once("error", (err) => {
      this.overflowed = true;
      this.current?.destroy(err);
      this.settle(null);
    });
  }

  private settle(result: Buffer[] | null): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w(result);
  }
}

const EMPTY = new RequestBody(null, 0);
