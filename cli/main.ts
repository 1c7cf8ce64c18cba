/**
 * The `weightlens` command line. Each subcommand lives in cli/commands/<name>.ts and exports
 * `register(program)`; this file only wires them and turns errors into one line on stderr
 * (no stack traces for expected failures; set WEIGHTLENS_DEBUG=1 to see them).
 */
import { Command } from 'commander';
import { errorLine } from '../lib/errors.ts';
import { register as registerAnalyze } from './commands/analyze.ts';
import { register as registerCurvature } from './commands/curvature.ts';
import { register as registerDashboard } from './commands/dashboard.ts';
import { register as registerDb } from './commands/db.ts';
import { register as registerInspect } from './commands/inspect.ts';
import { register as registerLeaderboard } from './commands/leaderboard.ts';
import { register as registerPlan } from './commands/plan.ts';
import { register as registerSchedule } from './commands/schedule.ts';
import { register as registerStack } from './commands/stack.ts';
import { register as registerStatus } from './commands/status.ts';
import { register as registerSweep } from './commands/sweep.ts';
import { register as registerWatch } from './commands/watch.ts';
import { register as registerWorker } from './commands/worker.ts';

const program = new Command()
  .name('weightlens')
  .description(
    'Data-free quality analysis of model checkpoints: heavy-tailed spectra and curvature, at scale.',
  )
  .version('0.1.0')
  .showHelpAfterError();

// Subcommands (one line each; keep sorted).
registerAnalyze(program);
registerCurvature(program);
registerDashboard(program);
registerDb(program);
registerInspect(program);
registerLeaderboard(program);
registerPlan(program);
registerSchedule(program);
registerStack(program);
registerStatus(program);
registerSweep(program);
registerWatch(program);
registerWorker(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (process.env.WEIGHTLENS_DEBUG) console.error(err);
  process.stderr.write(`weightlens: ${errorLine(err)}\n`);
  process.exitCode = process.exitCode || 1;
}
