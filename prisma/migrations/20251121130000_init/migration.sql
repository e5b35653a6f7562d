-- CreateTable
CREATE TABLE "resources" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "labels" JSONB,
    "created_revision" INTEGER NOT NULL,
    "updated_revision" INTEGER NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "resources_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "revisions" (
    "number" INTEGER NOT NULL,
    "author" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "diff" JSONB NOT NULL,
    "rollback_of" INTEGER,
    "base_revision" INTEGER,

    CONSTRAINT "revisions_pkey" PRIMARY KEY ("number")
);

-- CreateTable
CREATE TABLE "endpoints" (
    "id" TEXT NOT NULL,
    "workload" TEXT NOT NULL,
    "service" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "ports" JSONB NOT NULL,
    "labels" JSONB NOT NULL,
    "sidecar" BOOLEAN NOT NULL,
    "proxy_version" TEXT NOT NULL,
    "replica_id" TEXT NOT NULL,
    "connected_at" TIMESTAMP(3) NOT NULL,
    "last_seen_at" TIMESTAMP(3) NOT NULL,
    "disconnected_at" TIMESTAMP(3),

    CONSTRAINT "endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "proxy_statuses" (
    "proxy_id" TEXT NOT NULL,
    "replica_id" TEXT NOT NULL,
    "service" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "connected_at" TIMESTAMP(3) NOT NULL,
    "last_sent_version" TEXT,
    "last_sent_at" TIMESTAMP(3),
    "last_acked_version" TEXT,
    "last_acked_at" TIMESTAMP(3),
    "last_nack_version" TEXT,
    "last_nack_reason" TEXT,
    "last_nack_at" TIMESTAMP(3),
    "disconnected_at" TIMESTAMP(3),

    CONSTRAINT "proxy_statuses_pkey" PRIMARY KEY ("proxy_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "resources_kind_namespace_name_key" ON "resources"("kind", "namespace", "name");

-- CreateIndex
CREATE INDEX "endpoints_namespace_service_idx" ON "endpoints"("namespace", "service");
