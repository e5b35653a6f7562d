-- CreateTable
CREATE TABLE "ca_authorities" (
    "id" SERIAL NOT NULL,
    "cert_pem" TEXT NOT NULL,
    "chain_pem" TEXT NOT NULL,
    "root_pem" TEXT NOT NULL,
    "key_sealed" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "not_after" TIMESTAMP(3) NOT NULL,
    "retired_at" TIMESTAMP(3),

    CONSTRAINT "ca_authorities_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "join_tokens" (
    "id" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "service" TEXT,
    "description" TEXT NOT NULL DEFAULT '',
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "revoked_at" TIMESTAMP(3),
    "uses" INTEGER NOT NULL DEFAULT 0,
    "last_used_at" TIMESTAMP(3),

    CONSTRAINT "join_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ca_authorities_state_idx" ON "ca_authorities"("state");
