-- AlterTable
ALTER TABLE "LayerResult" ADD COLUMN     "deltaNormRatio" DOUBLE PRECISION;
