-- CreateEnum
CREATE TYPE "SweepStatus" AS ENUM ('pending', 'running', 'completed', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "ItemStatus" AS ENUM ('pending', 'running', 'succeeded', 'failed', 'skipped');

-- CreateTable
CREATE TABLE "Sweep" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" "SweepStatus" NOT NULL DEFAULT 'pending',
    "workflowId" TEXT NOT NULL,
    "sources" JSONB NOT NULL,
    "config" JSONB NOT NULL,
    "configHash" TEXT NOT NULL,
    "checkpointsTotal" INTEGER NOT NULL DEFAULT 0,
    "checkpointsDone" INTEGER NOT NULL DEFAULT 0,
    "checkpointsFailed" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Checkpoint" (
    "id" TEXT NOT NULL,
    "uri" TEXT NOT NULL,
    "contentHash" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "family" TEXT,
    "run" TEXT,
    "step" INTEGER,
    "epoch" DOUBLE PRECISION,
    "parameters" BIGINT,
    "sizeBytes" BIGINT,
    "tensorCount" INTEGER,
    "knownTestAccuracy" DOUBLE PRECISION,
    "knownMetrics" JSONB,
    "metadata" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Checkpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SweepCheckpoint" (
    "sweepId" TEXT NOT NULL,
    "checkpointId" TEXT NOT NULL,
    "status" "ItemStatus" NOT NULL DEFAULT 'pending',
    "error" TEXT,
    "layersTotal" INTEGER NOT NULL DEFAULT 0,
    "layersDone" INTEGER NOT NULL DEFAULT 0,
    "layersFailed" INTEGER NOT NULL DEFAULT 0,
    "workflowId" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SweepCheckpoint_pkey" PRIMARY KEY ("sweepId","checkpointId")
);

-- CreateTable
CREATE TABLE "LayerResult" (
    "id" TEXT NOT NULL,
    "checkpointId" TEXT NOT NULL,
    "configHash" TEXT NOT NULL,
    "layerName" TEXT NOT NULL,
    "layerId" INTEGER NOT NULL,
    "layerType" TEXT NOT NULL,
    "status" "ItemStatus" NOT NULL,
    "error" TEXT,
    "N" INTEGER,
    "M" INTEGER,
    "Q" DOUBLE PRECISION,
    "rf" INTEGER,
    "numEvals" INTEGER,
    "alpha" DOUBLE PRECISION,
    "alphaWeighted" DOUBLE PRECISION,
    "logNorm" DOUBLE PRECISION,
    "logSpectralNorm" DOUBLE PRECISION,
    "spectralNorm" DOUBLE PRECISION,
    "norm" DOUBLE PRECISION,
    "stableRank" DOUBLE PRECISION,
    "logAlphaNorm" DOUBLE PRECISION,
    "mpSoftrank" DOUBLE PRECISION,
    "numSpikes" INTEGER,
    "sigmaMp" DOUBLE PRECISION,
    "entropy" DOUBLE PRECISION,
    "D" DOUBLE PRECISION,
    "pl_xmin" DOUBLE PRECISION,
    "pl_xmax" DOUBLE PRECISION,
    "lambdaMax" DOUBLE PRECISION,
    "numPlSpikes" INTEGER,
    "randDistance" DOUBLE PRECISION,
    "wwSoftrank" DOUBLE PRECISION,
    "warning" TEXT,
    "metrics" JSONB,
    "esdUri" TEXT,
    "quantization" TEXT,
    "durationMs" INTEGER,
    "worker" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "LayerResult_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CheckpointSummary" (
    "id" TEXT NOT NULL,
    "checkpointId" TEXT NOT NULL,
    "configHash" TEXT NOT NULL,
    "alpha" DOUBLE PRECISION,
    "alphaWeighted" DOUBLE PRECISION,
    "logNorm" DOUBLE PRECISION,
    "logAlphaNorm" DOUBLE PRECISION,
    "logSpectralNorm" DOUBLE PRECISION,
    "stableRank" DOUBLE PRECISION,
    "mpSoftrank" DOUBLE PRECISION,
    "score" DOUBLE PRECISION,
    "scoreMetric" TEXT NOT NULL DEFAULT 'alpha_weighted',
    "layersAnalyzed" INTEGER NOT NULL DEFAULT 0,
    "layersFailed" INTEGER NOT NULL DEFAULT 0,
    "overTrained" INTEGER NOT NULL DEFAULT 0,
    "underTrained" INTEGER NOT NULL DEFAULT 0,
    "correlationTraps" INTEGER NOT NULL DEFAULT 0,
    "metrics" JSONB,
    "computedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CheckpointSummary_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CurvatureResult" (
    "id" TEXT NOT NULL,
    "checkpointId" TEXT NOT NULL,
    "configHash" TEXT NOT NULL,
    "status" "ItemStatus" NOT NULL,
    "error" TEXT,
    "dataSource" TEXT NOT NULL,
    "topEigenvalues" DOUBLE PRECISION[],
    "trace" DOUBLE PRECISION,
    "density" JSONB,
    "layers" JSONB,
    "backend" TEXT,
    "durationMs" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CurvatureResult_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Sweep_workflowId_key" ON "Sweep"("workflowId");

-- CreateIndex
CREATE INDEX "Sweep_createdAt_idx" ON "Sweep"("createdAt");

-- CreateIndex
CREATE INDEX "Checkpoint_family_idx" ON "Checkpoint"("family");

-- CreateIndex
CREATE UNIQUE INDEX "Checkpoint_uri_contentHash_key" ON "Checkpoint"("uri", "contentHash");

-- CreateIndex
CREATE INDEX "SweepCheckpoint_checkpointId_idx" ON "SweepCheckpoint"("checkpointId");

-- CreateIndex
CREATE INDEX "LayerResult_checkpointId_configHash_idx" ON "LayerResult"("checkpointId", "configHash");

-- CreateIndex
CREATE UNIQUE INDEX "LayerResult_checkpointId_layerName_configHash_key" ON "LayerResult"("checkpointId", "layerName", "configHash");

-- CreateIndex
CREATE INDEX "CheckpointSummary_configHash_score_idx" ON "CheckpointSummary"("configHash", "score");

-- CreateIndex
CREATE UNIQUE INDEX "CheckpointSummary_checkpointId_configHash_key" ON "CheckpointSummary"("checkpointId", "configHash");

-- CreateIndex
CREATE UNIQUE INDEX "CurvatureResult_checkpointId_configHash_key" ON "CurvatureResult"("checkpointId", "configHash");

-- AddForeignKey
ALTER TABLE "SweepCheckpoint" ADD CONSTRAINT "SweepCheckpoint_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SweepCheckpoint" ADD CONSTRAINT "SweepCheckpoint_checkpointId_fkey" FOREIGN KEY ("checkpointId") REFERENCES "Checkpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LayerResult" ADD CONSTRAINT "LayerResult_checkpointId_fkey" FOREIGN KEY ("checkpointId") REFERENCES "Checkpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CheckpointSummary" ADD CONSTRAINT "CheckpointSummary_checkpointId_fkey" FOREIGN KEY ("checkpointId") REFERENCES "Checkpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CurvatureResult" ADD CONSTRAINT "CurvatureResult_checkpointId_fkey" FOREIGN KEY ("checkpointId") REFERENCES "Checkpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;
