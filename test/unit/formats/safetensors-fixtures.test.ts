import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { FileStorage } from '../../../storage/file.ts';
import { expectTensorsExact, FIXTURES_DIR, readExpected } from './fixture-helpers.ts';

const expected = readExpected('safetensors/expected.json');

describe('safetensors reader over files written by the safetensors library', () => {
  for (const file of Object.keys(expected)) {
    it(`decodes ${file} bit for bit`, async () => {
      const ckpt = await openCheckpoint(`${FIXTURES_DIR}safetensors/${file}`, new FileStorage());
      expect(ckpt.format).toBe('safetensors');
      await expectTensorsExact(ckpt, expected[file]!);
    });
  }
});
