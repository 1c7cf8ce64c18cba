/** Issue 18.6: the one escaping function for names printed to a terminal, and a printer that uses it. */
import { describe, expect, it } from 'vitest';
import { formatInspectTable } from '../../../cli/commands/inspect.ts';
import { terminalLines, terminalText } from '../../../cli/terminal-text.ts';

describe('terminalText', () => {
  it('shows C0/C1 controls, DEL, separators and bidi formatting characters as escapes', () => {
    expect(terminalText('a\u001b[31mb\rc\nd\te\u0000f\u007fg\u0085h\u009bi')).toBe(
      'a\\x1b[31mb\\x0dc\\x0ad\\x09e\\x00f\\x7fg\\x85h\\x9bi',
    );
    expect(terminalText('x\u202ey\u2066z\u200f\u061c\u2028')).toBe('x\\u202ey\\u2066z\\u200f\\u061c\\u2028');
  });

  it('keeps printable text, including non-ASCII letters and emoji, as it is', () => {
    const text = 'layers.0.self_attn.q_proj.weight é 日本 😀 \\x1b';
    expect(terminalText(text)).toBe(text);
  });

  it('terminalLines keeps the block’s own line breaks', () => {
    expect(terminalLines('a\u001b\nb\r')).toBe('a\\x1b\nb\\x0d');
  });
});

describe('inspect table', () => {
  it('prints a hostile tensor name and file name escaped', () => {
    const table = formatInspectTable({
      uri: '/m/\u001b]0;x\u0007.safetensors',
      format: 'safetensors',
      metadata: { note: '\u009b2J' },
      size_bytes: 10,
      tensors: [
        {
          name: 'fc\u001b[2J\u202e.weight',
          dtype: 'F32',
          shape: [2, 2],
          layer_type: 'dense',
          analyzed: true,
        },
      ],
    } as Parameters<typeof formatInspectTable>[0]);
    expect(table).toContain('fc\\x1b[2J\\u202e.weight');
    expect(table).toContain('/m/\\x1b]0;x\\x07.safetensors');
    expect(table).toContain('\\x9b2J');
    expect(
      [...table].filter((ch) => ch !== '\n' && (ch < ' ' || (ch >= '\u007f' && ch <= '\u009f'))),
    ).toEqual([]);
  });
});
