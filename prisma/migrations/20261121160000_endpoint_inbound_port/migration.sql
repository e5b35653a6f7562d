-- AlterTable
ALTER TABLE "endpoints" ADD COLUMN     "inbound_port" INTEGER;
