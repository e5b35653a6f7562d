import assert from "node:assert/strict";
import { test } from "node:test";
import { Http1ResponseReader, ResponseParseError } from "./http1-response";

const b = (s: string) => Buffer.from(s, "latin1");

test("Content-Length responses, several in one read and one split across reads", () => {
  const r = new Http1ResponseReader();
  const one = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  assert.deepEqual(r.feed(b(one + one)), [
    { status: 200, bodyBytes: 5 },
    { status: 200, bodyBytes: 5 },
  ]);
  const split = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 3\r\n\r\nerr";
  for (let i = 0; i < split.length - 1; i++) assert.deepEqual(r.feed(b(split[i]!)), []);
  assert.deepEqual(r.feed(b(split.slice(-1))), [{ status: 503, bodyBytes: 3 }]);
});

test("chunked bodies, byte by byte, with a chunk extension and a trailer", () => {
  const r = new Http1ResponseReader();
  const res = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n2\r\nef\r\n0\r\nx-trailer: 1\r\n\r\n";
  const got = [];
  for (const ch of res) got.push(...r.feed(b(ch)));
  assert.deepEqual(got, [{ status: 200, bodyBytes: 6 }]);
  assert.deepEqual(r.feed(b("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")), [
    { status: 204, bodyBytes: 0 },
    { status: 200, bodyBytes: 0 },
  ]);
});

test("a response without a length or with a bad status line is an error, not a hang", () => {
  assert.throws(() => new Http1ResponseReader().feed(b("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")), ResponseParseError);
  assert.throws(() => new Http1ResponseReader().feed(b("SSH-2.0-OpenSSH\r\n\r\n")), /bad status line/);
  assert.throws(() => new Http1ResponseReader().feed(b("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")), /bad chunk size/);
});
