-- AlterTable
ALTER TABLE "Sweep" ADD COLUMN "scheduleName" TEXT;

-- CreateTable
CREATE TABLE "Alert" (
    "id" TEXT NOT NULL,
    "scheduleName" TEXT NOT NULL,
    "rule" TEXT NOT NULL,
    "checkpointId" TEXT NOT NULL,
    "sweepId" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "message" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deliveredAt" TIMESTAMP(3),
    "deliveryError" TEXT,

    CONSTRAINT "Alert_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Sweep_scheduleName_createdAt_idx" ON "Sweep"("scheduleName", "createdAt");

-- CreateIndex
CREATE INDEX "Alert_scheduleName_createdAt_idx" ON "Alert"("scheduleName", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Alert_scheduleName_rule_checkpointId_key" ON "Alert"("scheduleName", "rule", "checkpointId");

-- AddForeignKey
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_checkpointId_fkey" FOREIGN KEY ("checkpointId") REFERENCES "Checkpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;
