import net from "node:net";
import type { Knobs } from "../knobs";
import { apply } from "../knobs";

/**
 * inventory (raw TCP, a line protocol): `STOCK <id>` → `<id> <copies>`, `PING` → `PONG`,
 * anything else → `ERR <why>`. One connection may carry many lines.
 */
export function inventoryServer(knobs: Knobs): net.Server {
  return net.createServer((socket) => {
    socket.on("error", () => undefined);
    socket.setEncoding("utf8");
    let buf = "";
    let queue = Promise.resolve();
    socket.on("data", (chunk: string) => {
      buf += chunk;
      if (buf.length > 4096) return socket.destroy();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        queue = queue.then(async () => {
          const fail = await apply(knobs);
          if (socket.destroyed) return;
          if (fail) return void socket.write("ERR injected failure\n");
          const m = /^STOCK (\d{1,6})$/.exec(line);
          if (m) socket.write(`${m[1]} ${(Number(m[1]) * 7) % 50}\n`);
          else if (line === "PING") socket.write("PONG\n");
          else socket.write("ERR unknown command (STOCK <id> | PING)\n");
        });
      }
    });
  });
}
