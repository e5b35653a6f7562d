#!/usr/bin/env -S node --import tsx
/**
 * trellis-demo-app: one instance of one demo service.
 *
 *   trellis-demo-app <productpage|details|reviews|ratings|inventory|bookstore> --port P
 *     [--mesh-port OUT]       its sidecar's outbound port (productpage and reviews call others through it)
 *     [--version v1|v2|v3]    reviews: which version (v1 no stars; v2, v3 ask ratings)
 *     [--latency-ms N] [--jitter-ms N] [--failure-rate 0..1]   problems from the app itself
 *     [--knobs-file F]        a JSON file of those knobs, followed while the app runs
 *
 * Listens on 127.0.0.1 (DEMO_BIND to change: 0.0.0.0 in a container) and prints one JSON line
 * `{"event":"listening",…}`. SIGTERM/SIGINT stop it.
 */
import * as grpc from "@grpc/grpc-js";
import type http from "node:http";
import type http2 from "node:http2";
import type net from "node:net";
import { readFileSync } from "node:fs";
import { followKnobsFile, readKnobs } from "./knobs";
import type { Knobs } from "./knobs";
import { MeshClient } from "./mesh-client";
import { bookstoreServer } from "./services/bookstore";
import { detailsServer } from "./services/details";
import { inventoryServer } from "./services/inventory";
import { productpageServer } from "./services/productpage";
import { ratingsServer } from "./services/ratings";
import { reviewsServer } from "./services/reviews";

export const SERVICES = ["productpage", "details", "reviews", "ratings", "inventory", "bookstore"] as const;
type ServiceName = (typeof SERVICES)[number];

function parseFlags(argv: string[]): { service: string | undefined; flags: Map<string, string> } {
  const flags = new Map<string, string>();
  let service: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else flags.set(a.slice(2), argv[++i] ?? "");
    } else service ??= a;
  }
  return { service, flags };
}

function fail(message: string): never {
  process.stderr.write(`trellis-demo-app: ${message}\n`);
  process.exit(2);
}

const { service, flags } = parseFlags(process.argv.slice(2));
if (!service || !(SERVICES as readonly string[]).includes(service)) fail(`the first argument must be one of ${SERVICES.join(", ")}`);
const port = Number(flags.get("port") ?? process.env.DEMO_PORT ?? "0");
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: expected a port number, got '${flags.get("port")}'`);
const bind = process.env.DEMO_BIND ?? "127.0.0.1";
let knobs: Knobs;
try {
  knobs = readKnobs(flags);
} catch (err) {
  fail((err as Error).message);
}
const knobsFile = flags.get("knobs-file") ?? process.env.DEMO_KNOBS_FILE;
if (knobsFile) {
  const read = (f: string) => {
    try {
      return readFileSync(f, "utf8");
    } catch {
      return undefined;
    }
  };
  followKnobsFile(knobsFile, knobs, read, (m) => process.stderr.write(`trellis-demo-app: ${m}\n`));
}
const meshPort = Number(flags.get("mesh-port") ?? process.env.DEMO_MESH_PORT ?? "0");
const needsMesh = service === "productpage" || (service === "reviews" && (flags.get("version") ?? "v1") !== "v1");
if (needsMesh && !(meshPort > 0)) fail(`${service} calls other services through its sidecar: give --mesh-port <the sidecar's outbound port>`);
const mesh = new MeshClient(meshPort);
const version = flags.get("version") ?? process.env.DEMO_VERSION ?? "v1";

let close: () => Promise<void>;
let bound: number;
switch (service as ServiceName) {
  case "reviews": {
    const server = reviewsServer(version, knobs, mesh);
    bound = await new Promise<number>((resolve, reject) => server.bindAsync(`${bind}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    close = () => new Promise((r) => server.tryShutdown(() => r()));
    break;
  }
  default: {
    const servers: Record<Exclude<ServiceName, "reviews">, () => http.Server | http2.Http2Server | net.Server> = {
      productpage: () => productpageServer(knobs, mesh),
      details: () => detailsServer(knobs),
      ratings: () => ratingsServer(knobs),
      inventory: () => inventoryServer(knobs),
      bookstore: () => bookstoreServer(knobs),
    };
    const server = servers[service as Exclude<ServiceName, "reviews">]();
    bound = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, bind, () => resolve((server.address() as net.AddressInfo).port));
    });
    close = () => new Promise((r) => server.close(() => r()));
  }
}
process.stdout.write(JSON.stringify({ event: "listening", service, version, port: bound, knobs }) + "\n");
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    mesh.close();
    const timer = setTimeout(() => process.exit(0), 2_000);
    void close().then(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  });
}
