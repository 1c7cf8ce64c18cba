-- The eigen-solver backend that computed each layer result (issue 15: cuda beside the CPU routes).
ALTER TABLE "LayerResult" ADD COLUMN "eigenBackend" TEXT;
