#!/usr/bin/env node
// Bundles trellis-proxy (apps/proxy/src/main.ts and the @trellis/* workspace sources it
// imports) into apps/proxy/dist/main.mjs, so a sidecar runs plain JavaScript: no TypeScript
// loader in every pod (tsx adds RSS and start-up time to each proxy). Third-party packages
// stay external and load from node_modules as usual.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const deps = (file) => Object.keys(JSON.parse(readFileSync(path.join(root, file), "utf8")).dependencies ?? {});
const external = [...new Set([...deps("apps/proxy/package.json"), ...deps("packages/config/package.json"), ...deps("packages/proto/package.json")])].filter((d) => !d.startsWith("@trellis/"));

await build({
  entryPoints: [path.join(root, "apps/proxy/src/main.ts")],
  outfile: path.join(root, "apps/proxy/dist/main.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  external: [...external, ...external.map((d) => `${d}/*`)],
  banner: { js: "import { createRequire as __trellisCreateRequire } from 'node:module'; const require = __trellisCreateRequire(import.meta.url);" },
  logLevel: "warning",
});
console.log("built apps/proxy/dist/main.mjs");
