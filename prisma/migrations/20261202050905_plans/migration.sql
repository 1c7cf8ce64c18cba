-- CreateTable
CREATE TABLE "Plan" (
    "id" TEXT NOT NULL,
    "checkpointId" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "status" "ItemStatus" NOT NULL DEFAULT 'pending',
    "error" TEXT,
    "method" TEXT NOT NULL,
    "scheme" TEXT NOT NULL,
    "options" JSONB NOT NULL,
    "budget" JSONB,
    "avgBits" DOUBLE PRECISION,
    "bytes" BIGINT,
    "bops" DOUBLE PRECISION,
    "latency" DOUBLE PRECISION,
    "sparsity" DOUBLE PRECISION,
    "objective" DOUBLE PRECISION,
    "inputs" TEXT,
    "configHash" TEXT,
    "curvatureHash" TEXT,
    "frontier" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Plan_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PlanLayer" (
    "planId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "layerName" TEXT NOT NULL,
    "params" INTEGER NOT NULL,
    "bits" INTEGER NOT NULL,
    "sparsity" DOUBLE PRECISION NOT NULL,
    "sensitivity" DOUBLE PRECISION,
    "alpha" DOUBLE PRECISION,
    "trace" DOUBLE PRECISION,
    "note" TEXT,

    CONSTRAINT "PlanLayer_pkey" PRIMARY KEY ("planId","position")
);

-- CreateIndex
CREATE UNIQUE INDEX "Plan_workflowId_key" ON "Plan"("workflowId");

-- CreateIndex
CREATE INDEX "Plan_checkpointId_createdAt_idx" ON "Plan"("checkpointId", "createdAt");

-- AddForeignKey
ALTER TABLE "Plan" ADD CONSTRAINT "Plan_checkpointId_fkey" FOREIGN KEY ("checkpointId") REFERENCES "Checkpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PlanLayer" ADD CONSTRAINT "PlanLayer_planId_fkey" FOREIGN KEY ("planId") REFERENCES "Plan"("id") ON DELETE CASCADE ON UPDATE CASCADE;
