import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allocatorInUse, controlPlaneMallocEnv, findJemalloc, IMAGE_JEMALLOC, JEMALLOC_CONF } from "./allocator";

describe("the control plane's malloc", () => {
  it("finds libjemalloc where the image links it first, else where Debian installs it, else nowhere", () => {
    const debian = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
    assert.equal(findJemalloc((p) => p === debian || p === IMAGE_JEMALLOC), IMAGE_JEMALLOC);
    assert.equal(findJemalloc((p) => p === debian), debian);
    assert.equal(findJemalloc(() => false), undefined);
    assert.deepEqual(controlPlaneMallocEnv((p) => p === debian), { LD_PRELOAD: debian, MALLOC_CONF: JEMALLOC_CONF });
    assert.deepEqual(controlPlaneMallocEnv(() => false), {}, "no library: no preload (a missing LD_PRELOAD library only warns, but says nothing useful)");
  });

  it("tells jemalloc from the system malloc by the process's memory map", () => {
    const line = (f: string) => `7f0c2a600000-7f0c2a62a000 r--p 00000000 08:01 1234 ${f}\n`;
    assert.equal(allocatorInUse(() => line("/usr/bin/node") + line("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")), "jemalloc");
    assert.equal(allocatorInUse(() => line("/usr/bin/node") + line("/usr/lib/x86_64-linux-gnu/libc.so.6")), "system");
    assert.equal(allocatorInUse(() => line("/home/u/libjemalloc-notes/node")), "system", "a directory named like it is not the library");
    assert.equal(allocatorInUse(() => { throw new Error("ENOENT"); }), "unknown");
  });
});
