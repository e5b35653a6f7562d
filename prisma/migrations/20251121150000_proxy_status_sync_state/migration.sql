/*
  Warnings:

  - Added the required column `address` to the `proxy_statuses` table without a default value. This is not possible if the table is not empty.
  - Added the required column `proxy_version` to the `proxy_statuses` table without a default value. This is not possible if the table is not empty.
  - Added the required column `state` to the `proxy_statuses` table without a default value. This is not possible if the table is not empty.
  - Added the required column `workload` to the `proxy_statuses` table without a default value. This is not possible if the table is not empty.

*/
-- AlterTable
ALTER TABLE "proxy_statuses" ADD COLUMN     "address" TEXT NOT NULL,
ADD COLUMN     "latest_version" TEXT,
ADD COLUMN     "proxy_version" TEXT NOT NULL,
ADD COLUMN     "revision" INTEGER,
ADD COLUMN     "state" TEXT NOT NULL,
ADD COLUMN     "workload" TEXT NOT NULL;
