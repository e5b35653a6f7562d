#!/usr/bin/env node
// Bundles an app (`control` or `proxy`: apps/<app>/src/main.ts and the @trellis/* workspace
// sources it imports) into apps/<app>/dist/main.mjs, so production runs plain JavaScript: no
// TypeScript loader in the process (tsx costs ~40 MB RSS and start-up time, in every sidecar
// for the proxy). Third-party packages stay external and load from node_modules as usual.
// `demo` builds the demo's three programs (app, load generator, compose bootstrap) the same way.
// Usage: node scripts/build-app.mjs control|proxy|demo
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const APPS = ["control", "proxy", "demo"];
/** Entry points per app: src/<name>.ts → dist/<name>.mjs. */
const ENTRIES = { control: ["main"], proxy: ["main"], demo: ["main", "loadgen", "bootstrap"] };
const app = process.argv[2];
if (!APPS.includes(app)) {
  console.error(`usage: node scripts/build-app.mjs ${APPS.join("|")}`);
  process.exit(2);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const deps = (file) => Object.keys(JSON.parse(readFileSync(path.join(root, file), "utf8")).dependencies ?? {});
const external = [...new Set([...deps(`apps/${app}/package.json`), ...deps("packages/config/package.json"), ...deps("packages/proto/package.json")])].filter((d) => !d.startsWith("@trellis/"));

/**
 * `node:http` loaded with require instead of import. Node 24 builds an ES module's view of a
 * builtin by reading every export, and node:http's lazy `WebSocket`, `CloseEvent` and
 * `MessageEvent` then load Node's bundled undici: ~15 MB of RSS and ~3 MB of heap in every
 * process for a WebSocket nobody uses (Node 20 has no such exports). The banner's `require`
 * serves the rewritten imports; bundle.test.ts checks the built proxy does not load it.
 */
const requireNodeHttp = {
  name: "require-node-http",
  setup(b) {
    b.onResolve({ filter: /^(node:)?http$/ }, (args) => (args.namespace === "require-node-http" ? undefined : { path: args.path, namespace: "require-node-http" }));
    b.onLoad({ filter: /.*/, namespace: "require-node-http" }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: "js" }));
  },
};

await build({
  entryPoints: Object.fromEntries(ENTRIES[app].map((e) => [e, path.join(root, `apps/${app}/src/${e}.ts`)])),
  outdir: path.join(root, `apps/${app}/dist`),
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  external: [...external, ...external.map((d) => `${d}/*`)],
  banner: { js: "import { createRequire as __trellisCreateRequire } from 'node:module'; const require = __trellisCreateRequire(import.meta.url);" },
  logLevel: "warning",
  plugins: [requireNodeHttp],
});
console.log(`built ${ENTRIES[app].map((e) => `apps/${app}/dist/${e}.mjs`).join(", ")}`);
