// A stereo preview as a run sends it (events.ts `DisparityPreview`), made the way a real one is: generated pairs
// with exact ground truth (occluded pixels without), the block-matching baseline standing in for a subnet's
// prediction, both scaled to 0…254 over 0…maxDisparity. Shared by the monitor model, webview and report tests.
import { generateStereoPair } from '../../daemon/data/stereo';
import type { DisparityPreview, TelemetryEvents } from '../../daemon/protocol/events';
import type { FrontEntry, ResultsFile } from '../../daemon/protocol/results';
import type { Arch } from '../../daemon/protocol/values';
import { blockMatching, toGrey } from '../../daemon/tasks/stereo';

const toByte = (d: number, max: number) => Math.min(254, Math.max(0, Math.round((d / max) * 254)));

export function disparityPreview(opts: { pairs?: number; width?: number; height?: number; maxDisparity?: number } = {}): DisparityPreview {
  const { pairs = 2, width = 48, height = 24, maxDisparity = 8 } = opts;
  return {
    kind: 'disparity',
    maxDisparity,
    pairs: Array.from({ length: pairs }, (_, k) => {
      const pair = generateStereoPair({ width, height, maxDisparity, seed: 11 + k, noise: 2 });
      const predicted = blockMatching(toGrey(pair.left, width, height, 1), toGrey(pair.right, width, height, 1), width, height, maxDisparity);
      const n = width * height;
      const [pred, truth] = [new Uint8Array(n), new Uint8Array(n)];
      let sum = 0;
      let valid = 0;
      for (let i = 0; i < n; i++) {
        pred[i] = toByte(predicted[i], maxDisparity);
        truth[i] = pair.visible[i] ? toByte(pair.disparity[i], maxDisparity) : 255;
        if (pair.visible[i]) {
          sum += Math.abs(predicted[i] - pair.disparity[i]);
          valid++;
        }
      }
      const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
      return { width, height, left: b64(pair.left), predicted: b64(pred), truth: b64(truth), epe: valid > 0 ? sum / valid : 0 };
    }),
  };
}

/** A stereo arch: six units, depth 2 at most. */
export const stereoArch: Arch = { ks: Array(12).fill(3), e: Array(12).fill(3), d: [2, 1, 2, 1, 2, 1], r: 48, w: 1 };

export function previewEvent(label: string, phaseIndex?: number, preview = disparityPreview()): TelemetryEvents['preview'] {
  return { label, ...(phaseIndex !== undefined ? { phaseIndex } : {}), arch: stereoArch, preview };
}

/** A stereo run's results.json around `front` (the rest small and fixed), for report and formatting tests. */
export function stereoResultsFile(front: FrontEntry[], extra: Partial<ResultsFile> = {}): ResultsFile {
  return {
    format: 1,
    runId: 'stereo-1',
    name: 'stereo',
    finishedAt: '2025-01-01T00:00:00Z',
    wallMs: 1000,
    backend: { backend: 'cpu', version: '4.22.0', device: 'test' },
    objective: 'macs',
    constraints: {},
    input: {},
    task: { kind: 'stereo', metric: 'epe', higherIsBetter: false },
    front,
    predictedFront: front,
    measured: [],
    predictor: { rmse: 0.1, kendallTau: 0.5, trainSize: 10, heldOutSize: 5 },
    search: { population: 8, generations: 2, candidatesScored: 16, uniqueCandidates: 12, wallMs: 10, candidatesPerSec: 1600 },
    training: { phases: [], steps: 4, wallMs: 500 },
    warnings: [],
    ...extra,
  };
}
