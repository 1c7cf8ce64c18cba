/**
 * PSNR as super-resolution papers report it (EDSR, RDN, ESRGAN): on the luma channel Y of
 * ITU-R BT.601 (the MATLAB rgb2ycbcr convention, 16–235), with a border of `scale` pixels shaved
 * off, peak 255; and plain RGB PSNR beside it. Pure: interleaved RGB pixel arrays in [0, 255].
 */

export interface Image {
  width: number;
  height: number;
  /** Interleaved RGB, row-major, values in [0, 255]. */
  rgb: ArrayLike<number>;
}

/** BT.601 luma as in MATLAB's rgb2ycbcr: Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255. */
export function lumaBt601(r: number, g: number, b: number): number {
  return 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
}

function checkSameSize(a: Image, b: Image): void {
  if (a.width !== b.width || a.height !== b.height)
    throw new Error(`PSNR of images of different sizes: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  for (const img of [a, b])
    if (img.rgb.length !== img.width * img.height * 3)
      throw new Error(
        `image of ${img.width}×${img.height} has ${img.rgb.length} values, not ${img.width * img.height * 3}`,
      );
}

function psnrFromMse(mse: number): number {
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

/**
 * PSNR in dB of `restored` against `reference`, over the pixels at least `shave` from every
 * border; `channel` 'y' compares BT.601 luma, 'rgb' all three channels.
 */
export function psnr(
  reference: Image,
  restored: Image,
  options: { shave: number; channel: 'y' | 'rgb' },
): number {
  checkSameSize(reference, restored);
  const { shave, channel } = options;
  if (!Number.isInteger(shave) || shave < 0 || 2 * shave >= Math.min(reference.width, reference.height))
    throw new Error(`shave ${shave} leaves no pixels of a ${reference.width}×${reference.height} image`);
  let sum = 0;
  let count = 0;
  for (let y = shave; y < reference.height - shave; y++) {
    for (let x = shave; x < reference.width - shave; x++) {
      const i = (y * reference.width + x) * 3;
      const a = reference.rgb;
      const b = restored.rgb;
      if (channel === 'y') {
        const d = lumaBt601(a[i]!, a[i + 1]!, a[i + 2]!) - lumaBt601(b[i]!, b[i + 1]!, b[i + 2]!);
        sum += d * d;
        count++;
      } else {
        for (let c = 0; c < 3; c++) {
          const d = a[i + c]! - b[i + c]!;
          sum += d * d;
          count++;
        }
      }
    }
  }
  return psnrFromMse(sum / count);
}

/** A model's float output as a saved 8-bit image would hold it: clipped to [0, 255] and rounded. */
export function toEightBit(values: ArrayLike<number>, scale: number): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(values[i]! * scale);
    out[i] = Math.min(255, Math.max(0, v));
  }
  return out;
}
