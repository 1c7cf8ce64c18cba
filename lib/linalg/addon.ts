/**
 * An optional Node-API addon of native/build (`npm run build:native`), loaded once: where it is
 * disabled (`<env>=0`), not built, or does not load, `load()` is null and `error()` says why in one
 * line, and callers fall back to the TypeScript path.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface OptionalAddonSpec<T> {
  /** How messages name it ("CUDA"). */
  name: string;
  path: string;
  /** The environment variable that disables it when "0". */
  disableEnv: string;
  /** The functions it must export. */
  exports: readonly string[];
  /** Its own start-up once required: the value callers use, or a string saying why there is none. */
  init: (addon: Record<string, unknown>) => T | string;
}

export function optionalAddon<T>(spec: OptionalAddonSpec<T>) {
  let cached: T | null | undefined;
  let loadError: string | undefined;
  const load = (): T | null => {
    if (cached !== undefined) return cached;
    cached = null;
    if (process.env[spec.disableEnv] === '0') {
      loadError = `${spec.name} disabled by ${spec.disableEnv}=0`;
      return cached;
    }
    if (!existsSync(spec.path)) {
      loadError = `${spec.name} addon not built (${spec.path}); run npm run build:native`;
      return cached;
    }
    try {
      const record: Record<string, unknown> = Object(createRequire(import.meta.url)(spec.path));
      if (!spec.exports.every((key) => typeof record[key] === 'function')) {
        loadError = `${spec.name} addon does not export ${spec.exports.join('/')}`;
        return cached;
      }
      const value = spec.init(record);
      if (typeof value === 'string') loadError = value;
      else cached = value;
    } catch (err) {
      loadError = `${spec.name} addon failed to load: ${err instanceof Error ? err.message : String(err)}`;
    }
    return cached;
  };
  return {
    load,
    /** Why the addon is not in use (undefined when it is). */
    error: (): string | undefined => {
      load();
      return loadError;
    },
  };
}
