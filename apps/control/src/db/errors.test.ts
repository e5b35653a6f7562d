import assert from "node:assert/strict";
import { it } from "node:test";
import { DatabaseUnavailableError, describeCause, isConnectionError, mapDatabaseError } from "./errors";

it("recognises connection failures from the socket, pg, PostgreSQL and Prisma", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
  assert.ok(isConnectionError(refused));
  assert.ok(isConnectionError(new AggregateError([refused], "")));
  assert.ok(isConnectionError(new Error("Connection terminated unexpectedly")));
  assert.ok(isConnectionError(Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" })));
  assert.ok(isConnectionError(Object.assign(new Error("x"), { code: "08006" })));
  assert.ok(isConnectionError(Object.assign(new Error("Can't reach database server"), { code: "P1001" })));
  assert.ok(isConnectionError({ message: "x", meta: { driverAdapterError: { cause: { kind: "DatabaseNotReachable" } } } }));
  assert.ok(!isConnectionError(Object.assign(new Error("duplicate key"), { code: "23505" })));
  assert.ok(!isConnectionError(Object.assign(new Error("unique"), { code: "P2002" })));
  assert.ok(!isConnectionError(undefined));
});

it("describes a cause in one line, without Prisma's invocation excerpt or the password", () => {
  const prisma = Object.assign(new Error("\nInvalid `db.prisma.revision.count()` invocation in\n/x.ts:10:1\n\n  7 const a = 1\n\nCan't reach database server at 127.0.0.1:5"), { code: "P1001" });
  assert.equal(describeCause(prisma), "Can't reach database server at 127.0.0.1:5");
  assert.equal(describeCause(new Error("password hunter2 rejected"), "hunter2"), "password *** rejected");
  assert.equal(describeCause(new AggregateError([Object.assign(new Error("connect ECONNREFUSED ::1:1"), { code: "ECONNREFUSED" })], "")), "connect ECONNREFUSED ::1:1");
});

it("maps only connection failures", () => {
  const mapped = mapDatabaseError(new Error("Connection terminated unexpectedly"), "db:5432");
  assert.ok(mapped instanceof DatabaseUnavailableError);
  assert.equal(mapped.message, "database unreachable at db:5432: Connection terminated unexpectedly");
  const other = new Error("syntax error");
  assert.equal(mapDatabaseError(other, "db:5432"), other);
});
