/**
 * Text from checkpoints (tensor, layer and file names, error messages quoting them) is written by
 * strangers: printed raw, an ESC sequence can rewrite the terminal, a CR hide what came before, and
 * a bidi override show a name reversed. Every table, line and error the CLI prints passes names
 * through `terminalText`; JSON and CSV output stay exact (they are data for programs).
 */

/**
 * C0 controls (tab and newline included: a name never spans cells or lines), DEL, C1 controls,
 * the line/paragraph separators and the bidi formatting characters (LRM/RLM/ALM, embeddings and
 * overrides, isolates).
 */
function unsafe(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

function escapeCodePoint(code: number): string {
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control and bidi formatting character shown as a visible \\xNN / \\uNNNN escape. */
export function terminalText(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += unsafe(code) ? escapeCodePoint(code) : ch;
  }
  return out;
}

/** Every line of a multi-line block escaped, the block's own line breaks kept. */
export function terminalLines(text: string): string {
  return text.split('\n').map(terminalText).join('\n');
}
