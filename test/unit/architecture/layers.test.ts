/**
 * Layering guard: the pure library, the workflow contracts and the database layer import nothing
 * from orchestration (workflows, activities, workers), the CLI or the dashboard.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importSpecifiers, type LayerRule, layerViolations } from './import-graph.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const UPPER = ['workflows', 'activities', 'workers', 'cli', 'dashboard'];

const RULES: LayerRule[] = [
  {
    folder: 'lib',
    forbiddenFolders: [...UPPER, 'db', 'storage', 'contracts', 'generated'],
    forbiddenPackages: ['@temporalio/', '@prisma/', 'pg', '@aws-sdk/'],
  },
  {
    folder: 'contracts',
    forbiddenFolders: [...UPPER, 'db', 'storage', 'generated'],
    forbiddenPackages: ['@temporalio/', '@prisma/', 'pg', '@aws-sdk/'],
  },
  { folder: 'db', forbiddenFolders: UPPER, forbiddenPackages: ['@temporalio/'] },
];

describe('import graph', () => {
  for (const rule of RULES) {
    it(`${rule.folder}/ imports nothing from ${rule.forbiddenFolders.join(', ')}`, () => {
      expect(layerViolations(ROOT, rule)).toEqual([]);
    });
  }

  it('the dashboard reads the database only through db/ (never the generated client)', () => {
    expect(
      layerViolations(ROOT, {
        folder: 'dashboard',
        forbiddenFolders: ['generated'],
        forbiddenPackages: ['@prisma/'],
      }),
    ).toEqual([]);
  });

  it('finds static, re-exported and dynamic imports, not ones in comments', () => {
    const text = [
      "import type { A } from '../workflows/a.ts';",
      "export { B } from '../activities/b.ts';",
      "const c = await import('../dashboard/c.ts');",
      "// import { D } from '../workflows/d.ts';",
    ].join('\n');
    expect(importSpecifiers(text)).toEqual(['../workflows/a.ts', '../activities/b.ts', '../dashboard/c.ts']);
  });

  it('reports a db/ file that imports workflow code', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'weightlens-layers-'));
    try {
      mkdirSync(path.join(root, 'db', 'nested'), { recursive: true });
      writeFileSync(path.join(root, 'db', 'ok.ts'), "import { x } from '../lib/x.ts';\n");
      writeFileSync(
        path.join(root, 'db', 'nested', 'bad.ts'),
        "import type { T } from '../../workflows/t.ts';\n",
      );
      expect(layerViolations(root, RULES[2]!)).toEqual([
        {
          file: path.join('db', 'nested', 'bad.ts'),
          specifier: '../../workflows/t.ts',
          reason: 'db/ may not import workflows/',
        },
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
