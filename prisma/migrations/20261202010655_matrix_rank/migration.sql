-- AlterTable
ALTER TABLE "LayerResult" ADD COLUMN     "matrixRank" INTEGER;
