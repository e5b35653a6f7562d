import assert from "node:assert/strict";
import { test } from "node:test";
import { ResponseFlags } from "./response-flags";

test("flags print in Envoy's order whatever order they were set in, each set once", () => {
  const a = new ResponseFlags().add("URX").add("UH").add("URX");
  const b = new ResponseFlags().add("UH").add("URX");
  assert.equal(a.format(), "UH,URX");
  assert.equal(b.format(), "UH,URX");
  assert.equal(a.size, 2);
  assert.deepEqual([...a], ["UH", "URX"]);
  assert.ok(a.has("UH") && a.has("URX") && !a.has("UF"));
});

test("no flags print as '-', one as itself; RBAC goes last", () => {
  assert.equal(new ResponseFlags().format(), "-");
  assert.equal(new ResponseFlags().size, 0);
  assert.equal(new ResponseFlags().add("DC").format(), "DC");
  assert.equal(new ResponseFlags().add("RBAC").add("DC").add("NR").format(), "NR,DC,RBAC");
});
