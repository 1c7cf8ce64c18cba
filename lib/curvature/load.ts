/**
 * Loads a TF.js layers model (model.json + binary weight shards) through an `ObjectOpener`, so
 * `file://`, plain paths and `s3://` all work the same and nothing goes over http. The tfjs-layers
 * loader does the deserialisation; we only supply the bytes.
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { concatArrays } from '../arrays.ts';
import { BadInputError, WeightlensError } from '../errors.ts';
import type { ObjectOpener } from '../formats/types.ts';

async function readAll(opener: ObjectOpener, uri: string): Promise<Uint8Array> {
  const reader = await opener.open(uri);
  return reader.read(0, reader.size);
}

/** `uri` is a model.json, or a directory/prefix holding one. */
export function modelJsonUri(uri: string): string {
  return uri.endsWith('.json') ? uri : `${uri.replace(/\/+$/, '')}/model.json`;
}

interface ModelJson {
  modelTopology?: object;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

export function storageIOHandler(uri: string, opener: ObjectOpener): tf.io.IOHandler {
  const jsonUri = modelJsonUri(uri);
  const base = jsonUri.slice(0, jsonUri.lastIndexOf('/') + 1);
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      let json: ModelJson;
      try {
        json = JSON.parse(new TextDecoder().decode(await readAll(opener, jsonUri))) as ModelJson;
      } catch (err) {
        if (err instanceof SyntaxError)
          throw new BadInputError(`model.json is not JSON: ${err.message}`, { file: jsonUri });
        throw err;
      }
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw new BadInputError('not a TF.js layers model (no modelTopology/weightsManifest)', {
          file: jsonUri,
        });
      }
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const shards: Uint8Array[] = [];
      for (const group of json.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const path of group.paths) {
          if (path.includes('..') || /^[a-z]+:\/\//i.test(path)) {
            throw new BadInputError(`weight path '${path}' leaves the model directory`, { file: jsonUri });
          }
          shards.push(await readAll(opener, base + path));
        }
      }
      const weightData = concatArrays(Uint8Array, shards);
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: weightData.buffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
      };
    },
  };
}

export async function loadLayersModelFromStorage(
  uri: string,
  opener: ObjectOpener,
): Promise<tfl.LayersModel> {
  try {
    return await tfl.loadLayersModel(storageIOHandler(uri, opener));
  } catch (err) {
    if (err instanceof WeightlensError) throw err;
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new BadInputError(
      `cannot load TF.js layers model: ${message}`,
      { file: modelJsonUri(uri) },
      { cause: err },
    );
  }
}
