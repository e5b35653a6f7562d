import { deflateRawSync, inflateRawSync } from "node:zlib";
import { LATENCY_BUCKETS } from "@trellis/config";
import pg from "pg";
import type { Logger } from "../../log";
import { STRIDE } from "./row-layout";
import type { IngestRow } from "./live-window";
import { keyString } from "./series-key";
import type { Reporter, SeriesKey, SeriesKind } from "./series-key";

export const TELEMETRY_CHANNEL = "trellis_telemetry";
/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7800;
/** Presence announcements: `hello <replicaId>` (never base64, so never taken for a chunk). */
const HELLO = "hello ";
/** How often a replica says it is there, and how long one unheard counts as gone. */
export const HELLO_EVERY_MS = 10_000;
export const PEER_TIMEOUT_MS = 30_000;

/**
 * Makes the live window complete on every replica: each second, a replica sends what its own
 * proxies reported (summed per series) to the others over PostgreSQL NOTIFY on its own LISTEN
 * connection, and adds what the others send to its window. A proxy may talk to any replica;
 * every replica's graph shows all of them.
 *
 * Payloads are deflated JSON chunks of at most 7800 bytes (NOTIFY's limit is 8000), each a
 * self-contained list of rows. Losing one (a dropped listener connection) loses that second of
 * that replica's proxies on the others only; nothing is retried, as telemetry is a live view.
 *
 * Replicas announce themselves (`hello`) on start, on every reconnect, every HELLO_EVERY_MS,
 * and in answer to a replica they had not heard. A replica that has heard no other within
 * PEER_TIMEOUT_MS is alone and neither sums nor sends its rows: a single control plane does
 * not pay for an exchange nobody reads (a third of its ingest work at 1000 proxies). A replica
 * that joins is answered at once, so the others' rows reach it from its first seconds.
 *
 * Safe use: `add()` from ingest, `start()` once, `close()` on shutdown.
 */
export class ReplicaExchange {
  private outbox = new Map<string, { key: SeriesKey; vals: Float64Array; hist: Float64Array | undefined }>();
  private listener: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private sending: Promise<unknown> = Promise.resolve();
  private helloTimer: NodeJS.Timeout | undefined;
  /** Other replicas heard, by id: when last (ms). */
  private readonly peers = new Map<string, number>();
  /** Chunks received and refused (malformed), for stats. */
  readonly counters = { chunksSent: 0, chunksReceived: 0, chunksRefused: 0 };

  constructor(
    private readonly url: string,
    private readonly replicaId: string,
    private readonly receive: (rows: IngestRow[]) => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
    this.timer = setInterval(() => void this.flush(), 1000);
    this.timer.unref();
    this.helloTimer = setInterval(() => void this.hello(), HELLO_EVERY_MS);
    this.helloTimer.unref();
  }

  /** Whether another replica was heard within PEER_TIMEOUT_MS (else rows are not exchanged). */
  get hasPeers(): boolean {
    const now = Date.now();
    for (const [id, at] of this.peers) {
      if (now - at <= PEER_TIMEOUT_MS) return true;
      this.peers.delete(id);
    }
    return false;
  }

  /** Queues rows from this replica's proxies for the next send, summed per series (only when another replica listens). */
  add(rows: readonly IngestRow[]): void {
    if (!this.hasPeers) return;
    for (const r of rows) {
      const k = keyString(r.key);
      let o = this.outbox.get(k);
      if (!o) this.outbox.set(k, (o = { key: r.key, vals: new Float64Array(STRIDE), hist: undefined }));
      for (let i = 0; i < STRIDE; i++) o.vals[i]! += r.vals[i]!;
      if (r.buckets && r.counts && r.buckets.length > 0) {
        o.hist ??= new Float64Array(LATENCY_BUCKETS);
        for (let i = 0; i < r.buckets.length; i++) o.hist[r.buckets[i]!]! += r.counts[i]!;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.helloTimer) clearInterval(this.helloTimer);
    await this.sending.catch(() => {});
    await this.listener?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    let ownPid = -1;
    client.on("notification", (n) => {
      // Our own NOTIFYs (sent on this very connection) come back too: skip them before inflating.
      if (n.channel === TELEMETRY_CHANNEL && n.payload && n.processId !== ownPid) this.onPayload(n.payload);
    });
    client.on("error", (err) => this.log.warn("telemetry exchange connection error", { cause: err.message }));
    client.on("end", () => {
      if (this.listener === client) this.listener = undefined;
      if (!this.closed) setTimeout(() => void this.connect().catch(() => undefined), 1000).unref();
    });
    await client.connect();
    ownPid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid ?? -1;
    await client.query(`LISTEN ${TELEMETRY_CHANNEL}`);
    this.listener = client;
    await this.hello();
  }

  /** Tells the other replicas this one is there. */
  private async hello(): Promise<void> {
    await this.listener?.query("SELECT pg_notify($1, $2)", [TELEMETRY_CHANNEL, HELLO + this.replicaId]).catch((err: Error) => this.log.debug("telemetry exchange hello failed", { cause: err.message }));
  }

  /** Notes a replica heard; one not heard lately is greeted back, so it knows about this one at once. */
  private heard(id: string): void {
    if (id === this.replicaId) return;
    const last = this.peers.get(id);
    this.peers.set(id, Date.now());
    if (last === undefined || Date.now() - last > PEER_TIMEOUT_MS) void this.hello();
  }

  private flush(): Promise<unknown> {
    const client = this.listener;
    if (this.outbox.size > 0 && !this.hasPeers) this.outbox = new Map(); // the last peer left
    if (this.outbox.size === 0 || !client) return this.sending;
    const rows = [...this.outbox.values()].map(sparse);
    this.outbox = new Map();
    const chunks = encodeChunks(this.replicaId, rows);
    this.sending = this.sending
      .then(async () => {
        for (const c of chunks) await client.query("SELECT pg_notify($1, $2)", [TELEMETRY_CHANNEL, c]);
        this.counters.chunksSent += chunks.length;
      })
      .catch((err: Error) => this.log.warn("could not send telemetry to the other replicas", { cause: err.message }));
    return this.sending;
  }

  private onPayload(payload: string): void {
    if (payload.startsWith(HELLO)) return this.heard(payload.slice(HELLO.length));
    let decoded: { origin: string; rows: IngestRow[] };
    try {
      decoded = decodeChunk(payload);
    } catch (err) {
      this.counters.chunksRefused++;
      this.log.debug("refused a telemetry chunk from another replica", { cause: (err as Error).message });
      return;
    }
    if (decoded.origin === this.replicaId) return; // sent before a reconnect, on an earlier connection
    this.heard(decoded.origin);
    this.counters.chunksReceived++;
    this.receive(decoded.rows);
  }
}

/** An outbox entry as a row with a sparse histogram. */
function sparse(o: { key: SeriesKey; vals: Float64Array; hist: Float64Array | undefined }): IngestRow {
  if (!o.hist) return { key: o.key, vals: o.vals };
  const buckets: number[] = [];
  const counts: number[] = [];
  o.hist.forEach((c, b) => {
    if (c > 0) {
      buckets.push(b);
      counts.push(c);
    }
  });
  return { key: o.key, vals: o.vals, buckets, counts };
}

type Wire = { o: string; r: [string[], number[], number[]?, number[]?][] };

const KINDS: readonly SeriesKind[] = ["http", "grpc", "tcp", "sat"];

function keyFields(k: SeriesKey): string[] {
  return [k.reporter, k.kind, k.srcNamespace, k.srcService, k.srcWorkload, k.srcVersion, k.dstNamespace, k.dstService, k.dstWorkload, k.dstVersion, k.route];
}

/** Splits rows into payloads under MAX_PAYLOAD bytes (base64 of deflated JSON). */
export function encodeChunks(origin: string, rows: readonly IngestRow[]): string[] {
  const out: string[] = [];
  const wireRow = (r: IngestRow): Wire["r"][number] => {
    const vals = Array.from(r.vals);
    return r.buckets && r.buckets.length > 0 ? [keyFields(r.key), vals, Array.from(r.buckets), Array.from(r.counts ?? [])] : [keyFields(r.key), vals];
  };
  const encode = (part: readonly IngestRow[]) => deflateRawSync(JSON.stringify({ o: origin, r: part.map(wireRow) } satisfies Wire)).toString("base64");
  let step = 64;
  for (let i = 0; i < rows.length; ) {
    const part = rows.slice(i, i + step);
    const payload = encode(part);
    if (payload.length > MAX_PAYLOAD && part.length > 1) {
      step = Math.max(1, part.length >> 1);
      continue;
    }
    if (payload.length <= MAX_PAYLOAD) out.push(payload); // a single row over the limit cannot be sent; it is dropped
    i += part.length;
    if (payload.length < MAX_PAYLOAD / 2) step *= 2;
  }
  return out;
}

/** Parses and checks one payload; throws on anything malformed. */
export function decodeChunk(payload: string): { origin: string; rows: IngestRow[] } {
  const w = JSON.parse(inflateRawSync(Buffer.from(payload, "base64"), { maxOutputLength: 1 << 20 }).toString("utf8")) as Wire;
  if (typeof w.o !== "string" || !Array.isArray(w.r)) throw new Error("not a telemetry chunk");
  const rows = w.r.map((e): IngestRow => {
    const [k, vals, buckets, counts] = e;
    if (!Array.isArray(k) || k.length !== 11 || !k.every((s) => typeof s === "string" && s.length <= 253)) throw new Error("bad series key");
    if (k[0] !== "source" && k[0] !== "destination") throw new Error("bad reporter");
    if (!KINDS.includes(k[1] as SeriesKind)) throw new Error("bad kind");
    if (!Array.isArray(vals) || vals.length !== STRIDE || !vals.every(isCount)) throw new Error("bad values");
    if (buckets !== undefined && (!Array.isArray(buckets) || !Array.isArray(counts) || buckets.length !== counts.length || !buckets.every((b) => Number.isInteger(b) && b >= 0 && b < LATENCY_BUCKETS) || !counts.every(isCount))) throw new Error("bad histogram");
    const key: SeriesKey = {
      reporter: k[0] as Reporter,
      kind: k[1] as SeriesKind,
      srcNamespace: k[2]!,
      srcService: k[3]!,
      srcWorkload: k[4]!,
      srcVersion: k[5]!,
      dstNamespace: k[6]!,
      dstService: k[7]!,
      dstWorkload: k[8]!,
      dstVersion: k[9]!,
      route: k[10]!,
    };
    return buckets ? { key, vals, buckets, counts: counts! } : { key, vals };
  });
  return { origin: w.o, rows };
}

/** A finite, non-negative number: a count or a sum of them. Histogram counts too, or one bad chunk poisons the window's percentiles. */
function isCount(n: unknown): boolean {
  return typeof n === "number" && Number.isFinite(n) && n >= 0;
}
