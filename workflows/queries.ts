/** Query definitions shared by the sweep workflow and its clients (no workflow code imported). */
import { defineQuery } from '@temporalio/workflow';
import type { SweepProgress } from '../contracts/sweep.ts';

export const progressQuery = defineQuery<SweepProgress>('progress');
