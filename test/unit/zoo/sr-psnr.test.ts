import { describe, expect, it } from 'vitest';
import { lumaBt601, psnr, toEightBit } from '../../../zoo/sr/psnr.ts';

function image(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]) {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.set(pixel(x, y), (y * width + x) * 3);
  return { width, height, rgb };
}

describe('super-resolution PSNR', () => {
  it('BT.601 luma spans 16–235 (MATLAB rgb2ycbcr)', () => {
    expect(lumaBt601(0, 0, 0)).toBeCloseTo(16, 12);
    expect(lumaBt601(255, 255, 255)).toBeCloseTo(235, 12);
    expect(lumaBt601(255, 0, 0)).toBeCloseTo(16 + 65.481, 12);
  });

  it('equals 10·log10(255²/MSE) for a known error, on RGB and on luma', () => {
    const a = image(8, 8, () => [100, 100, 100]);
    const b = image(8, 8, () => [110, 110, 110]);
    // RGB: every channel off by 10 → MSE 100.
    expect(psnr(a, b, { shave: 0, channel: 'rgb' })).toBeCloseTo(10 * Math.log10(255 ** 2 / 100), 10);
    // Luma: a grey step of 10 moves Y by 10 · 219/255.
    const dy = (10 * 219) / 255;
    expect(psnr(a, b, { shave: 0, channel: 'y' })).toBeCloseTo(10 * Math.log10(255 ** 2 / dy ** 2), 10);
    expect(psnr(a, a, { shave: 0, channel: 'y' })).toBe(Number.POSITIVE_INFINITY);
  });

  it('leaves out the shaved border', () => {
    const a = image(6, 6, () => [50, 60, 70]);
    const edge = (x: number, y: number) => x === 0 || y === 0 || x === 5 || y === 5;
    const b = image(6, 6, (x, y) => (edge(x, y) ? [0, 0, 0] : [50, 60, 71]));
    // Inside the 1-pixel border only blue differs, by 1: MSE = 1/3 over 4·4·3 values.
    expect(psnr(a, b, { shave: 1, channel: 'rgb' })).toBeCloseTo(10 * Math.log10(255 ** 2 * 3), 10);
    expect(psnr(a, b, { shave: 0, channel: 'rgb' })).toBeLessThan(20);
  });

  it('refuses images of different sizes and a shave that leaves nothing', () => {
    const a = image(4, 4, () => [0, 0, 0]);
    expect(() =>
      psnr(
        a,
        image(4, 5, () => [0, 0, 0]),
        { shave: 0, channel: 'y' },
      ),
    ).toThrow(/different sizes/);
    expect(() => psnr(a, a, { shave: 2, channel: 'y' })).toThrow(/leaves no pixels/);
  });

  it('clips and rounds model output to 8 bits', () => {
    expect([...toEightBit([-3, 0.4, 127.5, 300], 1)]).toEqual([0, 0, 128, 255]);
    expect([...toEightBit([0.5, 1.2], 255)]).toEqual([128, 255]);
  });
});
