/**
 * Detached service processes: start them in their own session (so they outlive the CLI and
 * are not hit by the terminal's Ctrl-C), remember them in pid files, verify a pid still belongs to
 * our binary before signalling it (pids get reused), and stop them with a bounded wait.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** The process' command line, or undefined when it is gone. */
export function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** The pid recorded in a pid file (first line, as postmaster.pid too), if alive and running `marker`. */
export function livePidFromFile(pidFile: string, marker: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.split('\n')[0]?.trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  return commandLineOf(pid)?.includes(marker) ? pid : undefined;
}

export interface DetachedSpawn {
  command: string;
  args: string[];
  logFile: string;
  pidFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Start a long-running server detached from us, output appended to its log file. */
export function spawnDetached(options: DetachedSpawn): number {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  mkdirSync(path.dirname(options.pidFile), { recursive: true });
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
    child.unref();
    writeFileSync(options.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM, wait up to `timeoutMs`, then SIGKILL. Resolves once the process is gone. */
export async function stopPid(pid: number, timeoutMs = 15_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    signal('SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}

/** Stops the live process of a pid file (if any, as stopPid) and removes the file. */
export async function stopPidFile(
  pid: number | undefined,
  pidFile: string,
  timeoutMs: number,
): Promise<void> {
  if (pid !== undefined) await stopPid(pid, timeoutMs);
  removeFile(pidFile);
}

/** The last lines of a log file, for error messages that point at the cause. */
export function logTail(logFile: string, lines = 5): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}
