-- AlterTable
ALTER TABLE "LayerResult" ADD COLUMN     "errorKind" TEXT,
ADD COLUMN     "errorFinal" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "CurvatureResult" ADD COLUMN     "errorKind" TEXT,
ADD COLUMN     "errorFinal" BOOLEAN NOT NULL DEFAULT false;

-- Failed rows written before the columns: every writer then stored "<Code>: <one line>" (the
-- typed error's code, or the Temporal failure type), and BadInput/Unsupported were the final codes
-- (lib/errors.ts FINAL_ERROR_CODES). This is the last place the text is read.
UPDATE "LayerResult" SET "errorKind" = substring("error" from '^([A-Za-z][A-Za-z0-9_]*): ')
  WHERE "status" = 'failed' AND "error" IS NOT NULL;
UPDATE "LayerResult" SET "errorFinal" = true WHERE "status" = 'failed' AND "errorKind" IN ('BadInput', 'Unsupported');

UPDATE "CurvatureResult" SET "errorKind" = substring("error" from '^([A-Za-z][A-Za-z0-9_]*): ')
  WHERE "status" = 'failed' AND "error" IS NOT NULL;
UPDATE "CurvatureResult" SET "errorFinal" = true WHERE "status" = 'failed' AND "errorKind" IN ('BadInput', 'Unsupported');
