/**
 * The pretrained ESRGAN series (@upscalerjs/esrgan-slim, -medium, -thick; one model per scale) and
 * the shape of the PSNR report `npm run experiment:esrgan-psnr` writes. No TF.js here: the trends
 * experiment reads the report without loading a model.
 */

export const SCALES = [2, 3, 4, 8] as const;

/**
 * The three sizes and the pixel range each expects: slim and medium are RDN models fed and
 * returning [0, 255], thick is an RRDN model in [0, 1] (the packages' model definitions,
 * dist/…/shared/src/esrgan/esrgan.js: inputRange/outputRange by architecture).
 */
export const ESRGAN_FAMILIES = [
  { size: 'slim', range: 255 },
  { size: 'medium', range: 255 },
  { size: 'thick', range: 1 },
] as const;
export type EsrganSize = (typeof ESRGAN_FAMILIES)[number]['size'];

export interface PsnrRow {
  model: string;
  size: EsrganSize | 'bicubic';
  scale: number;
  image: string;
  /** Luma (BT.601) PSNR in dB, `scale` border pixels shaved. */
  psnrY: number;
  psnrRgb: number;
  seconds: number;
}

export interface EsrganPsnrReport {
  generatedAt: string;
  command: string;
  crop: number;
  backend: string;
  images: string[];
  rows: PsnrRow[];
}
