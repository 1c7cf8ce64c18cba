/**
 * The Temporal SDK packages must share one protobufjs (the direct dependency): with nested copies,
 * JSON history replay fails with "type must be a Type" (see ../shared/notes/infra.md §2a).
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

function protobufjsSeenFrom(pkg: string): string {
  const fromPkg = createRequire(require.resolve(`${pkg}/package.json`));
  return realpathSync(path.dirname(fromPkg.resolve('protobufjs/package.json')));
}

describe('Temporal SDK dependency hygiene', () => {
  it('resolves one protobufjs, the pinned direct dependency, from every @temporalio package', () => {
    const direct = realpathSync(path.dirname(require.resolve('protobufjs/package.json')));
    const seen = ['@temporalio/proto', '@temporalio/common', '@temporalio/worker', '@temporalio/client'].map(
      protobufjsSeenFrom,
    );
    expect(new Set(seen)).toEqual(new Set([direct]));
    const { version } = require('protobufjs/package.json') as { version: string };
    const { dependencies } = require('@temporalio/proto/package.json') as {
      dependencies: Record<string, string>;
    };
    // @temporalio/proto asks for ^8.x: the pinned copy must be in the same major line.
    expect(dependencies.protobufjs).toMatch(/^\^8\./);
    expect(version).toMatch(/^8\./);
  });
});
