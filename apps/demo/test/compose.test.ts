import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { IMAGE_JEMALLOC, JEMALLOC_CONF } from "@trellis/control/allocator";
import { CONTROL_PLANE_NODE_FLAGS } from "@trellis/control/heap";
import { PROXY_NODE_FLAGS } from "@trellis/proxy/node-flags";
import { WORKLOADS } from "../src/resources";

// docker-compose.yml checked statically: no Docker engine runs on this machine (the brief says
// so), so `docker compose config` / `up` cannot be run here. What can be checked without one is
// checked against the repository itself: commands and the files they run, build contexts and
// the Dockerfile, published ports, variables, dependencies, health checks and what Prometheus
// scrapes.

/** Where the program is in `node [node flags…] <program> [args…]`. */
const scriptIndex = (cmd: readonly string[]): number => cmd.findIndex((a, i) => i > 0 && !a.startsWith("--"));

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const read = (f: string) => readFileSync(path.join(root, f), "utf8");

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  network_mode?: string;
  healthcheck?: { test: string[] };
  restart?: string;
}

const raw = read("docker-compose.yml");
const compose = parse(raw, { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const dockerfile = read("Dockerfile");
const buildApp = read("scripts/build-app.mjs");

describe("docker-compose.yml (static checks; no Docker engine here)", () => {
  it("has Postgres, Prometheus, the control plane, the ingress, the load generator and an app + sidecar pair per demo instance", () => {
    for (const s of ["postgres", "prometheus", "control", "web", "ingress", "loadgen", "bootstrap", "bookstore"]) assert.ok(services[s], `service ${s}`);
    const sidecars = Object.keys(services).filter((s) => s.endsWith("-sidecar"));
    assert.equal(sidecars.length, WORKLOADS.length - 1, "one sidecar per demo instance (the ingress is the eighth proxy)");
    for (const sc of sidecars) {
      const app = sc.slice(0, -"-sidecar".length);
      assert.ok(services[app], `${sc} has its app container ${app}`);
      assert.equal(services[sc]!.network_mode, `service:${app}`, `${sc} shares ${app}'s network namespace`);
    }
  });

  it("every build context and Dockerfile exists; the image is multi-stage, Node 24 LTS, non-root", () => {
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.build || s.image, `${name}: build or image`);
      if (s.build) {
        assert.ok(existsSync(path.join(root, s.build.context)), `${name}: context ${s.build.context}`);
        assert.ok(existsSync(path.join(root, s.build.context, s.build.dockerfile ?? "Dockerfile")), `${name}: Dockerfile`);
      }
    }
    const froms = dockerfile.split("\n").filter((l) => /^FROM /.test(l));
    assert.ok(froms.length >= 2, "multi-stage");
    assert.ok(froms.every((l) => /^FROM node:24[-.]/.test(l)), froms.join("; "));
    const users = dockerfile.split("\n").filter((l) => /^USER /.test(l));
    assert.deepEqual(users, ["USER node"], "the runtime stage runs as the unprivileged node user");
    for (const f of ["package.json", "package-lock.json", "prisma", "scripts/build-app.mjs", "apps/demo/proto"]) assert.ok(existsSync(path.join(root, f)), `the Dockerfile copies ${f}`);
    // The image's default command is the control plane, with its node flags and its malloc
    // (allocator.ts), which the runtime stage installs and links where the command preloads it.
    const cmdLine = /^CMD (\[.*\])$/m.exec(dockerfile);
    assert.deepEqual(JSON.parse(cmdLine![1]!), ["env", `LD_PRELOAD=${IMAGE_JEMALLOC}`, `MALLOC_CONF=${JEMALLOC_CONF}`, "node", ...CONTROL_PLANE_NODE_FLAGS, "apps/control/dist/main.mjs"]);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    assert.match(runtime, /apt-get install -y --no-install-recommends libjemalloc2/, "the runtime stage installs jemalloc");
    assert.match(runtime, new RegExp(`ln -s .*libjemalloc\\.so\\.2.* ${IMAGE_JEMALLOC.replaceAll(".", "\\.")}`), `the runtime stage links it at ${IMAGE_JEMALLOC}`);
  });

  it("every command runs a program the image contains: bundles the Dockerfile builds from sources that exist", () => {
    const entries = JSON.parse(/const ENTRIES = (\{[^;]+\});/.exec(buildApp)![1]!.replace(/(\w+):/g, '"$1":')) as Record<string, string[]>;
    for (const [name, s] of Object.entries(services)) {
      if (!s.build) continue;
      const cmd = s.entrypoint ?? s.command;
      assert.ok(cmd && cmd.length >= 2, `${name}: a command`);
      assert.equal(cmd[0], "node", `${name}`);
      if (cmd[1] === "/app/node_modules/next/dist/bin/next") {
        // The dashboard: Next's own CLI from the production dependencies, on the build the Dockerfile makes.
        assert.ok((JSON.parse(read("apps/web/package.json")) as { dependencies: Record<string, string> }).dependencies.next, `${name}: next is a production dependency of apps/web`);
        assert.match(dockerfile, /npm run build -w apps\/web/, `${name}: the Dockerfile builds the dashboard`);
        assert.match(dockerfile, /COPY --from=build .*apps\/web\/\.next/, `${name}: the runtime stage has the build`);
        assert.equal((s as { working_dir?: string }).working_dir, "/app/apps/web");
        continue;
      }
      // node [flags…] <bundle> [args…]: the flags are the program's own (control: heap.ts; proxy: node-flags.ts).
      const script = scriptIndex(cmd);
      const m = /^apps\/(\w+)\/dist\/(\w+)\.mjs$/.exec(cmd[script]!);
      assert.ok(m, `${name}: runs a bundle (${cmd[script]})`);
      assert.deepEqual(cmd.slice(1, script), m[1] === "control" ? [...CONTROL_PLANE_NODE_FLAGS] : m[1] === "proxy" ? [...PROXY_NODE_FLAGS] : [], `${name}: node flags`);
      if (m[1] === "control") {
        const env = s.environment ?? {};
        assert.deepEqual([env.LD_PRELOAD, env.MALLOC_CONF], [IMAGE_JEMALLOC, JEMALLOC_CONF], `${name}: the control plane's malloc (allocator.ts)`);
      }
      const [, app, entry] = m;
      assert.ok(entries[app!]?.includes(entry!), `${name}: scripts/build-app.mjs builds ${cmd[script]}`);
      assert.ok(existsSync(path.join(root, `apps/${app}/src/${entry}.ts`)), `${name}: its source apps/${app}/src/${entry}.ts`);
      assert.match(dockerfile, new RegExp(`build-app\\.mjs ${app}\\b`), `${name}: the Dockerfile builds ${app}`);
      assert.match(dockerfile, new RegExp(`COPY --from=build .*apps/${app}/dist`), `${name}: the runtime stage has apps/${app}/dist`);
    }
    // The proxies' flags are the proxy's own (a typo would stop the container at start).
    const usage = read("apps/proxy/src/args.ts");
    for (const [name, s] of Object.entries(services)) {
      if (!s.command || !s.command[scriptIndex(s.command)]?.startsWith("apps/proxy/")) continue;
      for (const flag of s.command.slice(scriptIndex(s.command) + 1).filter((a) => a.startsWith("--"))) assert.ok(usage.includes(`flag: "${flag.slice(2)}"`), `${name}: ${flag} is a trellis-proxy flag`);
    }
  });

  it("published ports do not collide; every referenced variable is defined in .env.example or has a default", () => {
    const host = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => ({ name, port: String(p).split(":").slice(-2, -1)[0]! })));
    const seen = new Map<string, string>();
    for (const { name, port } of host) {
      assert.ok(!seen.has(port), `host port ${port}: ${seen.get(port)} and ${name}`);
      seen.set(port, name);
    }
    assert.ok(seen.size >= 3, "API, ingress and Prometheus are published");
    const env = new Set(read(".env.example").split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.slice(0, l.indexOf("="))));
    const refs = [...raw.matchAll(/\$\{([A-Z0-9_]+)(:?-[^}]*)?\}/g)];
    assert.ok(refs.length > 5);
    for (const [, name, def] of refs) assert.ok(def !== undefined || env.has(name!), `\${${name}} is neither in .env.example nor given a default`);
  });

  it("depends_on names existing services and has no cycle; network_mode targets exist; named volumes are declared", () => {
    for (const [name, s] of Object.entries(services)) {
      for (const d of Object.keys(s.depends_on ?? {})) assert.ok(services[d], `${name} depends on unknown ${d}`);
      if (s.network_mode?.startsWith("service:")) assert.ok(services[s.network_mode.slice(8)], `${name}: ${s.network_mode}`);
      for (const v of s.volumes ?? []) {
        const src = v.split(":")[0]!;
        if (src.startsWith(".")) assert.ok(existsSync(path.join(root, src)), `${name}: bind mount ${src}`);
        else assert.ok(src in compose.volumes, `${name}: volume ${src} is declared`);
      }
    }
    const state = new Map<string, "visiting" | "done">();
    const visit = (n: string, trail: string[]) => {
      if (state.get(n) === "done") return;
      assert.notEqual(state.get(n), "visiting", `dependency cycle: ${[...trail, n].join(" → ")}`);
      state.set(n, "visiting");
      const s = services[n]!;
      const deps = [...Object.keys(s.depends_on ?? {}), ...(s.network_mode?.startsWith("service:") ? [s.network_mode.slice(8)] : [])];
      for (const d of deps) visit(d, [...trail, n]);
      state.set(n, "done");
    };
    for (const n of Object.keys(services)) visit(n, []);
  });

  it("long-running services have health checks; secrets come from the environment, not the file", () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === "bootstrap" || name === "loadgen") continue;
      assert.ok(s.healthcheck?.test?.length, `${name}: healthcheck`);
    }
    for (const v of ["TRELLIS_ADMIN_PASSWORD", "TRELLIS_CA_KEK"]) assert.equal(services.control!.environment![v], `\${${v}}`, `${v} is not written into the compose file`);
    assert.match(services.control!.environment!.DATABASE_URL!, /\$\{POSTGRES_PASSWORD\}/);
  });

  it("Prometheus scrapes every proxy's admin port; every sidecar joins with the token the bootstrap job writes for its workload", () => {
    const prom = parse(read("docker/prometheus.yml")) as { scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
    const targets = prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets)).sort();
    const proxies = Object.entries(services).filter(([, s]) => s.command?.[scriptIndex(s.command)] === "apps/proxy/dist/main.mjs");
    const expected = proxies.map(([name, s]) => `${s.network_mode ? s.network_mode.slice(8) : name}:15000`).sort();
    assert.deepEqual(targets, expected);
    const written = new Set<string>(WORKLOADS.map((w) => w.workload));
    for (const [name, s] of proxies) {
      const file = s.command![s.command!.indexOf("--join-token-file") + 1]!;
      const workload = s.command![s.command!.indexOf("--workload") + 1]!;
      assert.equal(file, `/bootstrap/tokens/${workload}`, name);
      assert.ok(written.has(workload), `${name}: the bootstrap job writes a token for ${workload}`);
      assert.ok(s.command!.includes("--outbound-bind") && s.command![s.command!.indexOf("--outbound-bind") + 1] === "127.0.0.1", `${name}: the outbound listener stays on loopback`);
    }
  });
});
