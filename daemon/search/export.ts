// Exported subnets on disk: a stock tfjs LayersModel written as model.json + one weights file through a file
// IOHandler (tfjs has no file:// saver without tfjs-node), loadable by plain `tf.loadLayersModel` from any URL or
// file server.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../engine';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/** An IOHandler that writes the standard tfjs web format (model.json with a weights manifest + a .bin) to `dir`. */
export function fileSaveHandler(dir: string, metadata?: Record<string, unknown>): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    mkdirSync(dir, { recursive: true });
    const weights = artifacts.weightData ? Buffer.from(concatWeightData(artifacts.weightData)) : Buffer.alloc(0);
    const modelJson = {
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology,
      ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      ...(metadata ? { userDefinedMetadata: metadata } : {}),
    };
    writeFileSync(join(dir, WEIGHTS_FILE), weights);
    writeFileSync(join(dir, MODEL_FILE), JSON.stringify(modelJson));
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
        weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
        weightDataBytes: weights.length,
      },
    };
  });
}

function concatWeightData(data: ArrayBuffer | ArrayBuffer[]): ArrayBuffer {
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

/** Saves `model` under `dir` as model.json + weights.bin; returns the model.json path. */
export async function saveModel(model: tf.LayersModel, dir: string, metadata?: Record<string, unknown>): Promise<string> {
  await model.save(fileSaveHandler(dir, metadata));
  return join(dir, MODEL_FILE);
}
