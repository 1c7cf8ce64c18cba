-- CreateTable
CREATE TABLE "ScheduleRecord" (
    "name" TEXT NOT NULL,
    "timing" TEXT NOT NULL,
    "sources" JSONB NOT NULL,
    "alerts" JSONB NOT NULL,
    "watch" TEXT,
    "webhook" TEXT,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "nextRunAt" TIMESTAMP(3),
    "lastRunAt" TIMESTAMP(3),
    "deletedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ScheduleRecord_pkey" PRIMARY KEY ("name")
);
