-- A checkpoint whose layers did not all finish (infrastructure gave out): never summarized as complete.
ALTER TYPE "ItemStatus" ADD VALUE 'incomplete';

-- A sweep that ended with incomplete checkpoints (`weightlens sweep resume` finishes them).
ALTER TYPE "SweepStatus" ADD VALUE 'completed_with_failures';
