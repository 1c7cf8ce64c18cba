/**
 * Data and browser for the dashboard end-to-end test: a small real zoo (two families over training
 * steps, a checkpoint and a layer named with an HTML payload, a layer of NaNs that must fail) for
 * the real sweep pipeline, and Debian's Chromium driven by playwright-core.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { HOSTILE_NAME } from '../seed/seed.ts';
import {
  type SyntheticCheckpoint,
  safetensorsBytes,
  syntheticMatrix,
  syntheticZoo,
} from './sweep-fixtures.ts';

export { HOSTILE_NAME };
export const screenshotDir = path.resolve(import.meta.dirname, '../../test-output/dashboard');

function inFamilyDir(family: string, checkpoints: SyntheticCheckpoint[]): SyntheticCheckpoint[] {
  return checkpoints.map((checkpoint) => ({ ...checkpoint, dir: `${family}/${checkpoint.dir}` }));
}

function sidecar(fields: Record<string, unknown>) {
  return { name: 'weightlens.json', bytes: new TextEncoder().encode(JSON.stringify(fields)) };
}

/** Two families × a few steps, plus the hostile-named checkpoint (one layer all NaN). */
export function dashboardZoo(): SyntheticCheckpoint[] {
  const hostileLayers = [
    { name: HOSTILE_NAME, shape: [64, 32], data: syntheticMatrix(64, 32, 77, 2) },
    { name: 'layers.1.weight', shape: [48, 24], data: syntheticMatrix(48, 24, 78, 2) },
    { name: 'layers.2.weight', shape: [40, 20], data: new Float32Array(40 * 20).fill(Number.NaN) },
  ];
  const hostile: SyntheticCheckpoint = {
    dir: HOSTILE_NAME,
    step: 7,
    layerNames: hostileLayers.map((layer) => layer.name),
    files: [
      { name: 'model.safetensors', bytes: safetensorsBytes(hostileLayers) },
      sidecar({ family: 'hostile', run: 'run-x', step: 7, known_test_accuracy: 0.42 }),
    ],
  };
  return [
    ...inFamilyDir('mlp-a', syntheticZoo(4, { family: 'mlp-a', seed: 3 })),
    ...inFamilyDir('mlp-b', syntheticZoo(3, { family: 'mlp-b', seed: 5 })),
    hostile,
  ];
}

export async function launchChromium(): Promise<Browser> {
  await mkdir(screenshotDir, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page that records dialogs and script errors (an injected alert() would show up here). */
export async function watchedPage(
  browser: Browser,
): Promise<{ page: Page; dialogs: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return { page, dialogs, errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/**
 * Clicks a link or button and waits for the URL it leads to. A click that lands while React is
 * still hydrating the page can be dropped (the anchor's handler is not attached yet and the
 * replayed event does not navigate), so an unchanged URL after a while earns one more click.
 */
export async function clickThrough(
  page: Page,
  target: Locator,
  url: RegExp,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await target.click();
    const wait = Math.min(10_000, Math.max(1, deadline - Date.now()));
    try {
      await page.waitForURL(url, { timeout: wait });
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
  }
}
