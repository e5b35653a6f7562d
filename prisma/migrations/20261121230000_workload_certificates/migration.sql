-- CreateTable
CREATE TABLE "workload_certificates" (
    "proxy_id" TEXT NOT NULL,
    "spiffe_id" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "not_after" TIMESTAMP(3) NOT NULL,
    "issued_at" TIMESTAMP(3) NOT NULL,
    "via" TEXT NOT NULL,

    CONSTRAINT "workload_certificates_pkey" PRIMARY KEY ("proxy_id")
);
