/**
 * Reads schema.prisma the way Prisma itself does: through the prisma-schema wasm module
 * that ships inside the `prisma` CLI package (`build/prisma_schema_build_bg.wasm`), calling
 * its `get_dmmf` export. The CLI bundles the wasm-bindgen glue into cli.js, so this file
 * carries the few lines of glue get_dmmf needs (strings in, a string or an Error out).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { repoRoot } from "../../src/db/paths";

/** The parts of Prisma's DMMF datamodel that the schema-match test compares. */
export interface DmmfField {
  name: string;
  dbName: string | null;
  kind: "scalar" | "object" | "enum" | "unsupported";
  type: string;
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUnique: boolean;
  isUpdatedAt: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  nativeType?: [string, string[]] | null;
}
export interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
}
export interface DmmfIndex {
  model: string;
  type: "id" | "normal" | "unique" | "fulltext";
  isDefinedOnField: boolean;
  dbName?: string | null;
  fields: { name: string }[];
}
export interface Datamodel {
  enums: { name: string; dbName?: string | null; values: { name: string; dbName?: string | null }[] }[];
  models: DmmfModel[];
  indexes: DmmfIndex[];
}

// The project's lib settings (ES2023, no DOM) do not declare WebAssembly: the little used here.
interface WasmTable {
  get(i: number): unknown;
  set(i: number, v: unknown): void;
  grow(n: number): number;
}
interface WasmApi {
  Module: { new (bytes: Uint8Array): object; imports(m: object): { module: string; name: string }[] };
  Instance: new (m: object, imports: object) => { exports: unknown };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type Wasm = {
  memory: { buffer: ArrayBuffer };
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, len: number, align: number): void;
  __wbindgen_externrefs: WasmTable;
  __externref_table_dealloc(idx: number): void;
  __wbindgen_start(): void;
  get_dmmf(ptr: number, len: number): [number, number, number, number];
};

let wasm: Wasm | undefined;
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const text = (ptr: number, len: number) => decoder.decode(new Uint8Array(wasm!.memory.buffer, ptr >>> 0, len));

function load(): Wasm {
  if (wasm) return wasm;
  const cli = createRequire(join(repoRoot, "package.json")).resolve("prisma/build/index.js");
  const module = new WebAssembly.Module(readFileSync(join(dirname(cli), "prisma_schema_build_bg.wasm")));
  // wasm-bindgen suffixes import names with a hash that changes between releases: match by prefix.
  const handlers: Record<string, (...args: number[]) => unknown> = {
    __wbg_Error_: (ptr, len) => new Error(text(ptr!, len!)),
    __wbg___wbindgen_throw_: (ptr, len) => {
      throw new Error(text(ptr!, len!));
    },
    __wbg_set_message_: () => undefined,
    __wbindgen_init_externref_table: () => {
      const table = wasm!.__wbindgen_externrefs;
      const offset = table.grow(4);
      table.set(0, undefined);
      [undefined, null, true, false].forEach((v, i) => table.set(offset + i, v));
    },
  };
  const imports: Record<string, Record<string, unknown>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const handler = Object.entries(handlers).find(([prefix]) => imp.name.startsWith(prefix))?.[1];
    if (!handler) throw new Error(`prisma schema wasm wants an unknown import ${imp.module}.${imp.name}; update prisma-dmmf.ts`);
    (imports[imp.module] ??= {})[imp.name] = handler;
  }
  wasm = new WebAssembly.Instance(module, imports).exports as Wasm;
  wasm.__wbindgen_start();
  return wasm;
}

/** The DMMF datamodel of a schema, as `prisma generate` sees it; throws Prisma's validation message. */
export function getDatamodel(schemaPath: string): Datamodel {
  const w = load();
  const params = encoder.encode(JSON.stringify({ prismaSchema: [[schemaPath, readFileSync(schemaPath, "utf8")]], noColor: true }));
  const ptr = w.__wbindgen_malloc(params.length, 1) >>> 0;
  new Uint8Array(w.memory.buffer, ptr, params.length).set(params);
  const [outPtr, outLen, errIdx, isErr] = w.get_dmmf(ptr, params.length);
  if (isErr) {
    const error = w.__wbindgen_externrefs.get(errIdx);
    w.__externref_table_dealloc(errIdx);
    throw error instanceof Error ? error : new Error(String(error));
  }
  try {
    return (JSON.parse(text(outPtr, outLen)) as { datamodel: Datamodel }).datamodel;
  } finally {
    w.__wbindgen_free(outPtr, outLen, 1);
  }
}
