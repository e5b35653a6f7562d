import assert from "node:assert/strict";
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import { describe, it } from "node:test";
import { installRuntimeFixes } from "./runtime-fixes";

describe("installRuntimeFixes", () => {
  it("keeps AsyncResource#bind's behaviour (async scope, this, arguments, length) without the deprecated accessor", () => {
    installRuntimeFixes();
    const als = new AsyncLocalStorage<string>();
    const resource = als.run("bound-scope", () => new AsyncResource("test"));
    const fn = function (this: unknown, a: number, b: number) {
      return { store: als.getStore(), self: this, sum: a + b };
    };
    const bound = resource.bind(fn);
    const self = { me: 1 };
    const r = als.run("caller-scope", () => bound.call(self, 2, 3));
    assert.deepEqual(r, { store: "bound-scope", self, sum: 5 });
    assert.equal(bound.length, 2);
    assert.equal(Object.getOwnPropertyDescriptor(bound, "asyncResource"), undefined);
    // Node takes a thisArg too (@types/node 20 declares only fn).
    const withThis = (resource.bind as (f: typeof fn, thisArg: unknown) => typeof fn)(fn, self);
    assert.equal(withThis(1, 1).self, self);
  });
});
