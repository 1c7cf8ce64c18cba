import { describe, expect, it } from 'vitest';
import { type AlertCheckpoint, evaluateAlertRules, parseAlertRule } from '../../../lib/alerts/rules.ts';
import { isBadInput } from '../../../lib/errors.ts';

const vocabulary = {
  layer: ['alpha', 'stable_rank'],
  checkpoint: ['alpha', 'alpha_weighted', 'correlation_traps'],
};

function checkpoint(step: number, alphas: number[], summary: Record<string, number | null>): AlertCheckpoint {
  return {
    id: `c${step}`,
    step,
    name: `checkpoint-${step}`,
    checkpoint: summary,
    layers: alphas.map((alpha) => ({ alpha })),
  };
}

describe('alert rules', () => {
  it('parses the three subject kinds and normalizes the text', () => {
    expect(parseAlertRule('min( alpha )<2', vocabulary)).toMatchObject({
      text: 'min(alpha) < 2',
      subject: { kind: 'layers', aggregate: 'min', metric: 'alpha' },
      op: '<',
      threshold: 2,
    });
    expect(parseAlertRule('correlation_traps > 0', vocabulary).subject).toEqual({
      kind: 'checkpoint',
      metric: 'correlation_traps',
    });
    expect(parseAlertRule('delta(alpha_weighted) >= 0.5', vocabulary)).toMatchObject({
      subject: { kind: 'delta', metric: 'alpha_weighted' },
      op: '>=',
      threshold: 0.5,
    });
  });

  it.each([
    ['min(alpha) < two', /expected/],
    ['median(alpha) < 2', /unknown function 'median'/],
    ['min(no_such) < 2', /unknown per-layer metric 'no_such'/],
    ['no_such > 1', /unknown per-checkpoint metric 'no_such'/],
    ['delta(stable_rank) > 1', /unknown per-checkpoint metric 'stable_rank'/],
    ['alpha ~ 2', /expected/],
    ['', /expected/],
  ])('refuses %j with a clear BadInput error', (text, message) => {
    let caught: unknown;
    try {
      parseAlertRule(text, vocabulary);
    } catch (err) {
      caught = err;
    }
    expect(isBadInput(caught)).toBe(true);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).toContain(`alert rule '${text}'`);
  });

  it('fires per checkpoint, in step order, delta against the previous step', () => {
    const rules = ['min(alpha) < 2', 'delta(alpha_weighted) > 0.5', 'correlation_traps > 0'].map((r) =>
      parseAlertRule(r, vocabulary),
    );
    // Given out of order: evaluation orders by step.
    const run = [
      checkpoint(300, [1.9, 2.5], { alpha_weighted: 2.2, correlation_traps: 1 }),
      checkpoint(100, [3.1, 2.8], { alpha_weighted: 1.0, correlation_traps: 0 }),
      checkpoint(200, [2.4, 2.1], { alpha_weighted: 1.6, correlation_traps: null }),
    ];
    const hits = evaluateAlertRules(rules, run);
    expect(hits.map((h) => [h.rule, h.checkpointId])).toEqual([
      ['min(alpha) < 2', 'c300'],
      ['delta(alpha_weighted) > 0.5', 'c200'],
      ['delta(alpha_weighted) > 0.5', 'c300'],
      ['correlation_traps > 0', 'c300'],
    ]);
    expect(hits[0]!.value).toBe(1.9);
    expect(hits[1]!.value).toBeCloseTo(0.6, 12);
    expect(hits[0]!.message).toBe('checkpoint-300 (step 300): min(alpha) < 2 (value 1.90000)');
  });

  it('fires nothing for missing values', () => {
    const rule = parseAlertRule('min(alpha) < 2', vocabulary);
    expect(evaluateAlertRules([rule], [checkpoint(1, [], {})])).toEqual([]);
    const delta = parseAlertRule('delta(alpha) > 0', vocabulary);
    expect(evaluateAlertRules([delta], [checkpoint(1, [], { alpha: 5 })])).toEqual([]);
  });
});
