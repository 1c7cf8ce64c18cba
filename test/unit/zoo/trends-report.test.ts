import { describe, expect, it } from 'vitest';
import { groupCorrelations, type ZooPoint } from '../../../zoo/trends/analysis.ts';
import { renderReport } from '../../../zoo/trends/report.ts';
import {
  correlationTrapLines,
  countedGroups,
  estimatorClaims,
  meanAlignedTau,
  paperClaims,
  randomizedControl,
} from '../../../zoo/trends/report-claims.ts';
import { isConverged, renderConvergedSection } from '../../../zoo/trends/report-converged.ts';

/**
 * A zoo where trained α falls as accuracy rises (the theory's direction) but the shuffled copies'
 * α is unrelated to accuracy, while log_norm (kept by shuffling) rises with accuracy in both.
 */
function zoo(): ZooPoint[] {
  const runs: [string, string, number, number][] = [
    ['base-ep00', 'epochs', 0, 0.1],
    ['base-ep01', 'epochs', 1, 0.6],
    ['base-ep03', 'base', 3, 0.8],
    ['bs128', 'batch_size', 3, 0.78],
    ['bs256', 'batch_size', 3, 0.75],
    ['bs1024', 'batch_size', 3, 0.6],
    ['noise0.4', 'label_noise', 3, 0.7],
  ];
  const shuffledAlpha = [6.1, 5.9, 6.3, 5.8, 6.2, 6.0, 6.05];
  return runs.map(([id, varies, epoch, accuracy], k) => ({
    id,
    set: 'fmnist-mlp',
    varies,
    run: varies === 'epochs' || varies === 'base' ? 'fmnist-mlp-base' : id,
    epoch,
    finalEpoch: 3,
    accuracy,
    hyperparameters: {},
    trained: { alpha: 8 - 5 * accuracy, log_norm: accuracy },
    shuffled: { alpha: shuffledAlpha[k]!, log_norm: accuracy },
  }));
}

describe('trends report: counted groups and the paper claims', () => {
  const groups = groupCorrelations(zoo());

  it('counts groups with n ≥ 3 only', () => {
    const counted = countedGroups(groups).map((g) => g.group);
    expect(counted).toContain('fmnist-mlp/batch_size');
    expect(counted).toContain('fmnist-mlp/epochs');
    expect(counted).not.toContain('fmnist-mlp/label_noise'); // base + one run: n = 2
  });

  it('averages τ·(expected sign) over groups', () => {
    const counted = countedGroups(groups);
    expect(meanAlignedTau(counted, ['alpha'])).toBeCloseTo(1, 12);
    expect(meanAlignedTau(counted, ['log_norm'])).toBeCloseTo(-1, 12);
    expect(meanAlignedTau(counted, ['stable_rank'])).toBeNull();
  });

  it('states each claim from the numbers', () => {
    const text = paperClaims(groups).join('\n');
    expect(text).toMatch(/left out as too small.*fmnist-mlp\/label_noise \(n=2\)/);
    expect(text).toMatch(/Claim \(i\).*= -1\.00 \(disagrees\)/);
    expect(text).toMatch(/Claim \(iii\).*α gives mean τ·sign = 1\.00 \(agrees\).*they fail/);
  });
});

describe('trends report: randomized-ESD control', () => {
  it('separates metrics that lose their power on shuffling from those that read scale', () => {
    const points = zoo();
    const text = randomizedControl(groupCorrelations(points), points, ['alpha', 'log_norm']).join('\n');
    expect(text).toMatch(/reads learned structure\): alpha \(1\.00 → /);
    expect(text).toMatch(/reads scale\/entry distribution\): log_norm \(-1\.00 vs -1\.00\)/);
  });

  it('lists correlation traps per checkpoint, or says there are none', () => {
    expect(correlationTrapLines([{ id: 'a', count: 0 }]).join('')).toMatch(/No layer/);
    expect(
      correlationTrapLines([
        { id: 'a', count: 0 },
        { id: 'b', count: 2 },
      ]).join(''),
    ).toMatch(/: b \(2\)\.$/);
  });

  it('renders the whole report with the control section', () => {
    const points = zoo();
    const md = renderReport(
      {
        source: 'pipeline',
        sweeps: { trained: 't', control: 'c' },
        generatedAt: 'now',
        zooDir: '/z',
        points,
        groups: groupCorrelations(points),
        plots: [],
        correlationTraps: 0,
        layersAnalyzed: 21,
        layersFailed: 0,
      },
      ['alpha', 'log_norm'],
    );
    expect(md).toContain('## Randomized-ESD control');
    expect(md).toMatch(/fmnist-mlp\/label_noise\*\* \(n=2\): too few checkpoints/);
    // No full-training-set run and no pretrained sweep: the report says so.
    expect(md).toMatch(/## Not measured\n\n- Converged runs: none in this zoo directory/);
    expect(md).not.toContain('## Converged runs');
    expect(md).toMatch(/- Pretrained series: not swept in this run/);
  });
});

describe('trends report: estimators against plain α', () => {
  it('compares FARMS and Hill with α over the counted groups', () => {
    // FARMS follows accuracy the theory's way, Hill the opposite way, α the theory's way.
    const points = zoo().map((p) => ({
      ...p,
      trained: { ...p.trained, alpha_farms: 3 - p.accuracy, alpha_hill: p.accuracy },
    }));
    const text = estimatorClaims(groupCorrelations(points)).join('\n');
    expect(text).toMatch(/α 1\.00, Hill α -1\.00, FARMS α 1\.00;/);
    expect(text).toMatch(
      /here alpha_farms 1\.00 vs α 1\.00 over all 2 counted groups \(about as good as plain α\)/,
    );
    expect(text).toMatch(/Hill: alpha_hill -1\.00 vs α 1\.00 .*\(worse than plain α\)/);
  });

  it('says when an estimator has no values', () => {
    expect(estimatorClaims(groupCorrelations(zoo())).join('\n')).toMatch(
      /alpha_farms: no values in this sweep/,
    );
  });
});

describe('trends report: converged runs', () => {
  /** Four early-stopped widths: α falls and log_norm rises with accuracy; plus the quick zoo. */
  function withConverged(): ZooPoint[] {
    const converged: ZooPoint[] = [32, 64, 128, 256].map((width, k) => ({
      id: `fmnist-mlp-converged-w${width}-best`,
      set: 'fmnist-mlp-converged',
      varies: width === 128 ? 'base' : 'width',
      run: `fmnist-mlp-converged-w${width}`,
      epoch: 9 + k,
      finalEpoch: 9 + k,
      accuracy: 0.85 + 0.01 * k,
      hyperparameters: {
        hidden_width: width,
        train_subsample: 55_000,
        validation_holdout: 5000,
        early_stopping_patience: 3,
        epochs: 30,
        momentum: 0.9,
        learning_rate: 0.02,
        batch_size: 64,
      },
      trained: { alpha: 4 - k * 0.1, log_norm: 1 + k },
      shuffled: null,
      training: { epochsTrained: 12 + k, seconds: 300 + 100 * k, validationAccuracy: 0.86 + 0.01 * k },
    }));
    return [...zoo(), ...converged];
  }

  it('tells converged checkpoints by their recorded early stopping', () => {
    const points = withConverged();
    expect(points.filter(isConverged).map((p) => p.hyperparameters.hidden_width)).toEqual([32, 64, 128, 256]);
  });

  it('shows how they were trained, their metrics, τ per series and the claims on them', () => {
    const points = withConverged();
    const text = renderConvergedSection(points, groupCorrelations(points), ['alpha', 'log_norm']).join('\n');
    expect(text).toMatch(/4 checkpoints in 1 series \(fmnist-mlp-converged\)/);
    expect(text).toMatch(/trained on 55000 of the 60 000 training images with 5000 more held out/);
    expect(text).toMatch(/Epochs run: 12–15; training time per run .*: 300–600 s, 30 min in all\./);
    expect(text).toMatch(
      /\| fmnist-mlp-converged-w32-best \| 32 \| 9 \/ 12 \| 86\.00 \| 85\.00 \| 300 \| 4\.000 \|/,
    );
    expect(text).toMatch(/\| fmnist-mlp-converged \| 4 \| 85\.0–88\.0 \| -1\.00 ✓ \| 1\.00 ✗ \|/);
    expect(text).toMatch(
      /Claim \(i\).*-1\.00 on the converged series vs -1\.00 on the quick zoo.*\*\*does not hold\*\*/,
    );
    expect(text).toMatch(/Plain α: 1\.00 on the converged series/);
  });

  it('is left out of a report without converged runs, and the report names it otherwise', () => {
    expect(renderConvergedSection(zoo(), groupCorrelations(zoo()), ['alpha'])).toEqual([]);
    const points = withConverged();
    const md = renderReport(
      {
        source: 'pipeline',
        sweeps: { trained: 't', control: 'c' },
        generatedAt: 'now',
        zooDir: '/z',
        points,
        groups: groupCorrelations(points),
        plots: [],
        correlationTraps: 0,
        layersAnalyzed: 33,
        layersFailed: 0,
      },
      ['alpha', 'log_norm'],
    );
    expect(md).toContain('## Converged runs (full training set, early stopping)');
    expect(md).toMatch(/Beside it, converged runs of fmnist-mlp-converged/);
    expect(md).toMatch(/- Converged runs cover MLPs only \(fmnist-mlp-converged\)/);
    expect(md).toMatch(
      /a full-set epoch took 25–40 s .*trains them\): mnist-mlp-converged-w32-best, mnist-mlp-converged-w64-best, mnist-mlp-converged-w128-best\./,
    );
  });
});
