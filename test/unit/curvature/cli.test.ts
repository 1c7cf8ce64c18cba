/**
 * `weightlens curvature` end to end through the real launcher: the torch-referenced tiny CNN saved
 * as a TF.js model, its batch as .npz, JSON output in the documented shape; and the activity's
 * configuration hash.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { curvatureConfigHash } from '../../../activities/curvature.ts';
import { initCurvatureBackend } from '../../../lib/curvature/backend.ts';
import { fixture, fixtureDir, fixtureModel, saveModel } from './fixture.ts';

const run = promisify(execFile);
const launcher = join(import.meta.dirname, '../../../bin/weightlens.mjs');

describe('weightlens curvature', () => {
  it('prints the documented JSON for a model and an .npz batch', async () => {
    await initCurvatureBackend('cpu', () => {});
    const dir = mkdtempSync(join(tmpdir(), 'curvature-cli-'));
    await saveModel(fixtureModel(), dir);
    const json = await run(
      process.execPath,
      [
        launcher,
        'curvature',
        `${dir}/model.json`,
        '--data',
        join(fixtureDir, 'batch.npz'),
        '--top-k',
        '2',
        '--density',
        '--grid-points',
        '200',
        '--per-layer',
        '--format',
        'json',
      ],
      { env: { ...process.env, WEIGHTLENS_TF_BACKEND: 'cpu' }, maxBuffer: 64 << 20 },
    );
    const report = JSON.parse(json.stdout) as {
      top_eigenvalues: number[];
      trace: number | null;
      density: { grid: number[]; values: number[] };
      layers: { name: string; trace: number; top_eigenvalue: number }[];
    };
    expect(report.top_eigenvalues).toHaveLength(2);
    expect(
      Math.abs(report.top_eigenvalues[0]! - fixture.eigenvalues[0]!) / fixture.eigenvalues[0]!,
    ).toBeLessThan(1e-3);
    expect(report.trace).toBeNull();
    expect(report.density.grid).toHaveLength(200);
    expect(report.layers.map((l) => Object.keys(l).slice(0, 3))).toEqual(
      report.layers.map(() => ['name', 'trace', 'top_eigenvalue']),
    );
    expect(report.layers).toHaveLength(4);
  }, 300_000); // two cores shared by many: a spawned tfjs process can take minutes

  it('refuses two data sources with a one-line error', async () => {
    const err = await run(process.execPath, [
      launcher,
      'curvature',
      fixtureDir,
      '--random',
      '--data',
      'mnist',
    ]).catch((e: { stderr: string; code: number }) => e);
    expect((err as { code: number }).code).not.toBe(0);
    expect((err as { stderr: string }).stderr).toMatch(/exactly one of --data/);
  });
});

describe('curvature activity configuration hash', () => {
  it('ignores key order and undefined options, changes with any setting', () => {
    const data = { data: 'fashion-mnist', samples: 256, seed: 1, epsilon: 0.1 };
    const a = curvatureConfigHash(data, { topK: 2, trace: true, engine: undefined });
    const b = curvatureConfigHash(
      { epsilon: 0.1, seed: 1, samples: 256, data: 'fashion-mnist' },
      { trace: true, topK: 2 },
    );
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(curvatureConfigHash(data, { topK: 3, trace: true })).not.toBe(a);
    expect(curvatureConfigHash({ ...data, samples: 512 }, { topK: 2, trace: true })).not.toBe(a);
  });
});
