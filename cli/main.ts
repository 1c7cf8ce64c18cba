/**
 * The `weightlens` command line. Each subcommand lives in cli/commands/<name>.ts and exports
 * `register(program)`; this file only wires them and turns errors into one line on stderr
 * (no stack traces for expected failures; set WEIGHTLENS_DEBUG=1 to see them).
 */
import { Command } from 'commander';
import { errorLine } from '../lib/errors.ts';
import { terminalText } from './terminal-text.ts';

const program = new Command()
  .name('weightlens')
  .description(
    'Data-free quality analysis of model checkpoints: heavy-tailed spectra and curvature, at scale.',
  )
  .version('0.1.0')
  .showHelpAfterError();

type CommandModule = { register: (program: Command) => void };

// Subcommands (one line each; keep sorted). Loaded on demand: a command's module graph (Temporal,
// Prisma, the AWS SDK, TensorFlow.js...) costs seconds and memory that `analyze` of one file should not pay.
const commands: Record<string, () => Promise<CommandModule>> = {
  analyze: () => import('./commands/analyze.ts'),
  curvature: () => import('./commands/curvature.ts'),
  dashboard: () => import('./commands/dashboard.ts'),
  db: () => import('./commands/db.ts'),
  inspect: () => import('./commands/inspect.ts'),
  leaderboard: () => import('./commands/leaderboard.ts'),
  plan: () => import('./commands/plan.ts'),
  schedule: () => import('./commands/schedule.ts'),
  stack: () => import('./commands/stack.ts'),
  status: () => import('./commands/status.ts'),
  sweep: () => import('./commands/sweep.ts'),
  watch: () => import('./commands/watch.ts'),
  worker: () => import('./commands/worker.ts'),
};

/** Only the named subcommand's module when argv names one; all of them for help and unknown names. */
async function registerCommands(argv: string[]): Promise<void> {
  const named = argv[2] !== undefined && Object.hasOwn(commands, argv[2]) ? argv[2] : undefined;
  const load = named ? [commands[named]!] : Object.values(commands);
  for (const module of await Promise.all(load.map((l) => l()))) module.register(program);
}

try {
  await registerCommands(process.argv);
  await program.parseAsync(process.argv);
} catch (err) {
  if (process.env.WEIGHTLENS_DEBUG) console.error(err);
  process.stderr.write(`weightlens: ${terminalText(errorLine(err))}\n`);
  process.exitCode = process.exitCode || 1;
}
