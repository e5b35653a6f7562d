-- CreateTable
CREATE TABLE "spans" (
    "trace_id" TEXT NOT NULL,
    "span_id" TEXT NOT NULL,
    "parent_span_id" TEXT,
    "service" TEXT NOT NULL,
    "namespace" TEXT,
    "instance" TEXT,
    "name" TEXT NOT NULL,
    "kind" INTEGER NOT NULL,
    "start_time" TIMESTAMP(6) NOT NULL,
    "duration_ms" DOUBLE PRECISION NOT NULL,
    "error" BOOLEAN NOT NULL,
    "status_message" TEXT,
    "attributes" JSONB NOT NULL,
    "resource" JSONB NOT NULL,
    "events" JSONB,

    CONSTRAINT "spans_pkey" PRIMARY KEY ("trace_id","span_id")
);

-- CreateIndex
CREATE INDEX "spans_start_time_idx" ON "spans"("start_time");

-- CreateIndex
CREATE INDEX "spans_service_start_time_idx" ON "spans"("service", "start_time");

-- CreateIndex
CREATE INDEX "spans_service_name_start_time_idx" ON "spans"("service", "name", "start_time");

-- CreateIndex
CREATE INDEX "spans_duration_ms_idx" ON "spans"("duration_ms");

-- CreateIndex
CREATE INDEX "spans_error_start_time_idx" ON "spans"("error", "start_time");
