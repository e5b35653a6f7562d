-- CreateTable
CREATE TABLE "canary_runs" (
    "id" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "route" TEXT NOT NULL,
    "rule_index" INTEGER NOT NULL,
    "host" TEXT NOT NULL,
    "stable_subset" TEXT NOT NULL,
    "canary_subset" TEXT NOT NULL,
    "step_percent" INTEGER NOT NULL,
    "interval_sec" INTEGER NOT NULL,
    "max_error_rate_delta" DOUBLE PRECISION NOT NULL,
    "max_p99_ratio" DOUBLE PRECISION NOT NULL,
    "min_requests" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "weight" INTEGER NOT NULL,
    "reason" TEXT NOT NULL DEFAULT '',
    "steps" JSONB NOT NULL DEFAULT '[]',
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "next_step_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "canary_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "canary_runs_state_idx" ON "canary_runs"("state");
