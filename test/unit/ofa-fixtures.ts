// Shared fixtures of the ofa tests (not a test file): resolved supernet configs and the backend switch.
import { initEngine, tf } from '../../daemon/engine';
import { OFA_MBV3_UNITS } from '../../daemon/ofa/presets';
import type { SupernetConfig } from '../../daemon/ofa/space';
import { validateConfig, type MantaConfig } from '../../schemas';

function resolve(supernet: MantaConfig['supernet']): SupernetConfig {
  const result = validateConfig({ name: 'ofa-test', task: 'classification', data: { kind: 'synthetic' }, supernet, training: { phases: [{ phase: 'largest', epochs: 1 }] } });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config.supernet;
}

/** The schema's defaults with OFA-MobileNetV3's units: OFAMobileNetV3(ks [3,5,7], e [3,4,6], d [2,3,4]). */
export function mbv3Config(extra: Partial<MantaConfig['supernet']> = {}): SupernetConfig {
  return resolve({ units: OFA_MBV3_UNITS, ...extra });
}

/**
 * A narrow supernet of the same shape (five units, SE and h-swish where MobileNetV3 has them, a stride-1 unit, elastic
 * width and resolution) that runs in milliseconds on any backend.
 */
export function smallConfig(extra: Partial<MantaConfig['supernet']> = {}): SupernetConfig {
  return resolve({
    stem: { width: 8 },
    firstBlock: { width: 8 },
    units: [
      { width: 8, stride: 2, activation: 'relu', squeezeExcite: false },
      { width: 16, stride: 2, activation: 'relu', squeezeExcite: true },
      { width: 16, stride: 2, activation: 'hswish', squeezeExcite: false },
      { width: 24, stride: 1, activation: 'hswish', squeezeExcite: true },
      { width: 32, stride: 2, activation: 'hswish', squeezeExcite: true },
    ],
    finalExpandWidth: 48,
    featureMixWidth: 64,
    widthChoices: [0.5, 1],
    resolutionChoices: [24, 32],
    ...extra,
  });
}

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  await initEngine({ backend: name });
}

/** max |a - b| over all entries. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** A deterministic batch of images [n, size, size, channels]. */
export function images(n: number, size: number, channels = 3, seed = 1): tf.Tensor4D {
  return tf.randomNormal([n, size, size, channels], 0, 1, 'float32', seed) as tf.Tensor4D;
}
