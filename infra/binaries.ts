/**
 * The Go-built service binaries: an explicit path from the environment wins, then the command on
 * PATH, then the version-keyed cache that `npm run setup` (infra/setup.sh) builds into.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../lib/errors.ts';
import { binaryCacheDir } from './paths.ts';

export interface BinarySpec {
  /** Command name, also the file name in the cache. */
  name: string;
  version: string;
  envVar: string;
  /** Whether a same-named command on PATH is acceptable. */
  usePath: boolean;
}

export const TEMPORAL_BINARY: BinarySpec = {
  name: 'temporal',
  version: 'v1.5.1',
  envVar: 'WEIGHTLENS_TEMPORAL_BIN',
  usePath: true,
};
export const VERSITYGW_BINARY: BinarySpec = {
  name: 'versitygw',
  version: 'v1.7.0',
  envVar: 'WEIGHTLENS_VERSITYGW_BIN',
  usePath: true,
};

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function cachedBinaryPath(spec: BinarySpec): string {
  return path.join(binaryCacheDir, `${spec.name}-${spec.version}`, spec.name);
}

export function resolveBinary(spec: BinarySpec, env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[spec.envVar];
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new ConfigError(`${spec.envVar}=${explicit} is not an executable file; fix the path or unset it`);
  }
  if (spec.usePath) {
    for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
      const candidate = path.join(dir, spec.name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  const cached = cachedBinaryPath(spec);
  if (isExecutable(cached)) return cached;
  throw new ConfigError(
    `${spec.name} ${spec.version} not found (looked at ${spec.envVar}, PATH and ${cached}); run \`npm run setup\` to build it, or set ${spec.envVar}`,
  );
}
