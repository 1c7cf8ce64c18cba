-- AlterTable
ALTER TABLE "LayerResult" ADD COLUMN     "flags" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- Rows written before the column: their flags from the warning text ("over-trained, correlation-trap").
UPDATE "LayerResult" SET "flags" = string_to_array("warning", ', ') WHERE "warning" IS NOT NULL AND "warning" <> '';
