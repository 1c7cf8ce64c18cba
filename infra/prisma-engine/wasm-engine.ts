/**
 * Loads Prisma's schema engine compiled to WebAssembly. The package is wasm-bindgen "bundler"
 * output (`import * as wasm from './x.wasm'`), which Node 20 cannot import, so the module is
 * instantiated by hand with the JS glue as its import object.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

interface WasmGlue {
  SchemaEngine: typeof SchemaEngine;
  version(): string;
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
}

let loaded: Promise<WasmGlue> | undefined;

export function loadSchemaEngineWasm(): Promise<WasmGlue> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const glue = (await import(gluePath)) as WasmGlue;
    const bytes = await readFile(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'));
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), {
      './schema_engine_bg.js': glue as unknown as WebAssembly.ModuleImports,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return loaded;
}

/** The engines commit hash (`7.10.0-4.<hash>` → `<hash>`), which `prisma -v` shows. */
export function schemaEngineCommit(): string {
  const require = createRequire(import.meta.url);
  // The package's export map hides package.json; read it next to the glue module.
  const manifest = path.join(
    path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
    'package.json',
  );
  const { version } = require(manifest) as { version: string };
  return version.split('.').at(-1) ?? version;
}
