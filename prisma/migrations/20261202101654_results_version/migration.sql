-- CreateTable
CREATE TABLE "ResultsVersion" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "version" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "ResultsVersion_pkey" PRIMARY KEY ("id")
);

INSERT INTO "ResultsVersion" ("id", "version") VALUES (1, 0);

-- Bumped inside the writing transaction: a reader that sees the new version also sees the write
-- (the dashboard's cache key, db/results-version.ts). Statement-level, so a bulk write bumps once.
CREATE FUNCTION weightlens_bump_results_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "ResultsVersion" SET "version" = "version" + 1 WHERE "id" = 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER "CheckpointSummary_results_version"
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "CheckpointSummary"
  FOR EACH STATEMENT EXECUTE FUNCTION weightlens_bump_results_version();

CREATE TRIGGER "Checkpoint_results_version"
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Checkpoint"
  FOR EACH STATEMENT EXECUTE FUNCTION weightlens_bump_results_version();

CREATE TRIGGER "CurvatureResult_results_version"
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "CurvatureResult"
  FOR EACH STATEMENT EXECUTE FUNCTION weightlens_bump_results_version();

-- A sweep's progress counters and status do not change what it ranks: only what names or keys it.
CREATE TRIGGER "Sweep_results_version"
  AFTER INSERT OR DELETE OR UPDATE OF "id", "name", "configHash", "createdAt" OR TRUNCATE ON "Sweep"
  FOR EACH STATEMENT EXECUTE FUNCTION weightlens_bump_results_version();

CREATE TRIGGER "SweepCheckpoint_results_version"
  AFTER INSERT OR DELETE OR UPDATE OF "sweepId", "checkpointId" OR TRUNCATE ON "SweepCheckpoint"
  FOR EACH STATEMENT EXECUTE FUNCTION weightlens_bump_results_version();
