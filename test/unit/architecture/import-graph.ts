/**
 * The import graph of the repository's folders, read with TypeScript's own pre-processor (static
 * imports, re-exports and dynamic `import()`; comments and strings are not imports), and the layer
 * rules it must follow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface LayerRule {
  /** A top-level folder, e.g. `db`. */
  folder: string;
  /** Top-level folders its relative imports may not reach. */
  forbiddenFolders: readonly string[];
  /** Packages it may not import (a name or a scope prefix such as `@temporalio/`). */
  forbiddenPackages: readonly string[];
}

export interface Violation {
  file: string;
  specifier: string;
  reason: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === 'node_modules' || entry.name === '.next' ? [] : sourceFiles(full);
    return /\.(ts|tsx|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

export function importSpecifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** Every import of the rule's folder that reaches a forbidden folder or package. */
export function layerViolations(root: string, rule: LayerRule): Violation[] {
  const violations: Violation[] = [];
  for (const file of sourceFiles(path.join(root, rule.folder))) {
    const relFile = path.relative(root, file);
    for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = path.relative(root, path.resolve(path.dirname(file), specifier));
        const top = target.split(path.sep)[0]!;
        if (rule.forbiddenFolders.includes(top)) {
          violations.push({ file: relFile, specifier, reason: `${rule.folder}/ may not import ${top}/` });
        }
      } else if (
        rule.forbiddenPackages.some((p) => (p.endsWith('/') ? specifier.startsWith(p) : specifier === p))
      ) {
        violations.push({ file: relFile, specifier, reason: `${rule.folder}/ may not import ${specifier}` });
      }
    }
  }
  return violations;
}
