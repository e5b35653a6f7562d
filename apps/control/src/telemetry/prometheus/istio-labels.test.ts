import assert from "node:assert/strict";
import { test } from "node:test";
import { seriesKeyOf } from "./istio-labels";

const LABELS = {
  instance: "127.0.0.1:15090",
  reporter: "source",
  request_protocol: "http",
  source_workload: "productpage-v1",
  source_workload_namespace: "default",
  source_app: "productpage",
  source_version: "v1",
  destination_workload: "reviews-v2",
  destination_version: "v2",
  destination_service_name: "reviews",
  destination_service_namespace: "default",
};

test("Istio labels become the live window's series key; no route", () => {
  assert.deepEqual(seriesKeyOf(LABELS, "request"), {
    reporter: "source",
    kind: "http",
    srcNamespace: "default",
    srcService: "productpage",
    srcWorkload: "productpage-v1",
    srcVersion: "v1",
    dstNamespace: "default",
    dstService: "reviews",
    dstWorkload: "reviews-v2",
    dstVersion: "v2",
    route: "",
  });
});

test("kind: grpc from request_protocol, tcp from the TCP metrics", () => {
  assert.equal(seriesKeyOf({ ...LABELS, request_protocol: "grpc" }, "request")?.kind, "grpc");
  assert.equal(seriesKeyOf({ ...LABELS, request_protocol: "tcp" }, "tcp")?.kind, "tcp");
});

test('"unknown" and missing labels are the key\'s unknown ""', () => {
  const k = seriesKeyOf({ reporter: "destination", source_workload: "unknown", source_workload_namespace: "unknown", source_app: "unknown", destination_service_name: "reviews", destination_service_namespace: "default" }, "request")!;
  assert.equal(k.reporter, "destination");
  assert.deepEqual([k.srcNamespace, k.srcService, k.srcWorkload, k.srcVersion, k.dstWorkload, k.dstVersion], ["", "", "", "", "", ""]);
  assert.equal(k.dstService, "reviews");
});

test("a series without a source or destination reporter is not a key", () => {
  assert.equal(seriesKeyOf({ ...LABELS, reporter: "waypoint" }, "request"), undefined);
  const { reporter: _, ...rest } = LABELS;
  assert.equal(seriesKeyOf(rest, "request"), undefined);
});
