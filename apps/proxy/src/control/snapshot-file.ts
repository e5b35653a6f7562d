import { mkdir, open, readFile, rename } from "node:fs/promises";
import path from "node:path";
import type { Snapshot } from "@trellis/config";
import type { Logger } from "../core/log";
import { validateSnapshot } from "./decode-snapshot";

/**
 * The last good snapshot on disk (`<dataDir>/snapshot.json`, the body exactly as the control
 * plane sent it), so a proxy restarted while the control plane is unreachable serves its last
 * configuration instead of nothing.
 *
 * Writes are atomic (temporary file, fsync, rename, fsync of the directory): a crash leaves the
 * previous file or the new one, never half of one. Reads validate against SnapshotSchema; a
 * file that is corrupt or from an incompatible proxy version is ignored with a warning, never
 * fatal. One SnapshotFile per data directory; its writes are serialised.
 */
export class SnapshotFile {
  readonly path: string;
  private readonly tmpPath: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {
    this.path = path.join(dir, "snapshot.json");
    this.tmpPath = path.join(dir, ".snapshot.json.tmp");
  }

  /** The stored snapshot, or undefined when there is none or it cannot be used (logged). */
  async read(): Promise<Snapshot | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        this.log.debug("no snapshot on disk", { path: this.path });
        return undefined;
      }
      this.log.warn("cannot read the snapshot on disk; starting without it", { path: this.path, error: (err as Error).message });
      return undefined;
    }
    try {
      return validateSnapshot(JSON.parse(text));
    } catch (err) {
      this.log.warn("ignoring the snapshot on disk: corrupt or written by an incompatible proxy version", { path: this.path, error: (err as Error).message });
      return undefined;
    }
  }

  /** Replaces the stored snapshot with `body` (its JSON); resolves once it is durable. */
  write(body: Uint8Array | string): Promise<void> {
    const next = this.writing.then(() => this.writeNow(body));
    this.writing = next.catch(() => {}); // a failed write does not block the next one
    return next;
  }

  private async writeNow(body: Uint8Array | string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = await open(this.tmpPath, "w", 0o600);
    try {
      await file.writeFile(body);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(this.tmpPath, this.path);
    await syncDir(this.dir);
  }
}

/** fsync of a directory makes a rename in it durable; not supported everywhere (Windows), where it is skipped. */
async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // best effort: the rename itself is already atomic
  } finally {
    await handle?.close();
  }
}
