import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatB3Single, formatTraceparent, parseB3Multi, parseB3Single, parseTraceparent } from "./trace-context";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const SPAN = "b7ad6b7169203331";
const PARENT = "00f067aa0ba902b7";

describe("traceparent", () => {
  test("parses version 00 and reads the sampled flag", () => {
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false });
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.sampled, false);
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.sampled, true, "other flag bits do not hide the sampled bit");
  });

  test("a later version may carry more fields; version 00 may not", () => {
    assert.equal(parseTraceparent(`01-${TRACE}-${SPAN}-01-what-the-future-holds`)?.traceId, TRACE);
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-01-extra`), undefined);
  });

  test("refuses what W3C calls invalid", () => {
    for (const bad of [
      `ff-${TRACE}-${SPAN}-01`, // forbidden version
      `00-${TRACE.toUpperCase()}-${SPAN}-01`, // upper-case hex
      `00-${"0".repeat(32)}-${SPAN}-01`, // all-zero trace id
      `00-${TRACE}-${"0".repeat(16)}-01`, // all-zero parent id
      `00-${TRACE.slice(1)}-${SPAN}-01`, // short trace id
      `00-${TRACE}-${SPAN}-1`, // short flags
      `00_${TRACE}_${SPAN}_01`,
      "",
      "garbage",
      "x".repeat(2000),
    ]) {
      assert.equal(parseTraceparent(bad), undefined, bad.slice(0, 80));
    }
    assert.equal(parseTraceparent([`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`]), undefined, "a repeated header is ambiguous");
    assert.equal(parseTraceparent(undefined), undefined);
  });

  test("formats", () => {
    assert.equal(formatTraceparent(TRACE, SPAN, true), `00-${TRACE}-${SPAN}-01`);
    assert.equal(formatTraceparent(TRACE, SPAN, false), `00-${TRACE}-${SPAN}-00`);
  });
});

describe("B3 single", () => {
  test("trace and span id, with or without sampling state and parent", () => {
    assert.deepEqual(parseB3Single(`${TRACE}-${SPAN}`), { traceId: TRACE, spanId: SPAN, sampled: undefined, debug: false });
    assert.deepEqual(parseB3Single(`${TRACE}-${SPAN}-1`), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false });
    assert.deepEqual(parseB3Single(`${TRACE}-${SPAN}-0-${PARENT}`), { traceId: TRACE, spanId: SPAN, sampled: false, debug: false });
    assert.deepEqual(parseB3Single(`${TRACE}-${SPAN}-d`), { traceId: TRACE, spanId: SPAN, sampled: true, debug: true });
  });

  test("a 64-bit trace id is padded to 128 bits", () => {
    assert.equal(parseB3Single(`e457b5a2e4d86bd1-${SPAN}-1`)?.traceId, "0000000000000000e457b5a2e4d86bd1");
  });

  test("a lone sampling state is a decision without ids", () => {
    assert.deepEqual(parseB3Single("0"), { traceId: undefined, spanId: undefined, sampled: false, debug: false });
    assert.deepEqual(parseB3Single("d"), { traceId: undefined, spanId: undefined, sampled: true, debug: true });
  });

  test("refuses malformed values", () => {
    for (const bad of [`${TRACE}`, `${TRACE}-${SPAN}-x`, `${TRACE}-${SPAN}-1-zz`, `${TRACE}-${SPAN}-1-${PARENT}-more`, `abc-${SPAN}`, `${TRACE}-abc`, "-", "2", `${"0".repeat(32)}-${SPAN}`]) {
      assert.equal(parseB3Single(bad), undefined, bad);
    }
  });

  test("formats, keeping a 64-bit trace id 64-bit", () => {
    assert.equal(formatB3Single(TRACE, SPAN, true, false, undefined), `${TRACE}-${SPAN}-1`);
    assert.equal(formatB3Single(TRACE, SPAN, false, false, PARENT), `${TRACE}-${SPAN}-0-${PARENT}`);
    assert.equal(formatB3Single("0000000000000000e457b5a2e4d86bd1", SPAN, true, true, undefined), `e457b5a2e4d86bd1-${SPAN}-d`);
  });
});

describe("B3 multi", () => {
  test("ids with sampled, its legacy true/false spelling, or debug flags", () => {
    assert.deepEqual(parseB3Multi(TRACE, SPAN, "1", undefined), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false });
    assert.equal(parseB3Multi(TRACE, SPAN, "false", undefined)?.sampled, false);
    assert.equal(parseB3Multi(TRACE, SPAN, undefined, undefined)?.sampled, undefined, "deferred");
    assert.deepEqual(parseB3Multi(TRACE.toUpperCase(), SPAN, undefined, "1"), { traceId: TRACE, spanId: SPAN, sampled: true, debug: true });
  });

  test("sampling headers alone are a decision", () => {
    assert.deepEqual(parseB3Multi(undefined, undefined, "0", undefined), { traceId: undefined, spanId: undefined, sampled: false, debug: false });
    assert.equal(parseB3Multi(undefined, undefined, undefined, undefined), undefined);
  });

  test("refuses malformed values", () => {
    assert.equal(parseB3Multi(TRACE, undefined, "1", undefined), undefined, "trace id without span id");
    assert.equal(parseB3Multi(TRACE, "xyz", "1", undefined), undefined);
    assert.equal(parseB3Multi(TRACE, SPAN, "maybe", undefined), undefined);
    assert.equal(parseB3Multi([TRACE, TRACE], SPAN, "1", undefined), undefined);
  });
});
