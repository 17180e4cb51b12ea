// daemon/engine/: owns tfjs — backend selection, the wasm training kernels, and the numeric ops the supernet is
// built from (fused where the backend has a fused kernel). Every other daemon module takes `tf` from here.
import * as tf from '@tensorflow/tfjs';

export { tf };
export * from './ops';
export { initEngine, engineInfo, BackendUnavailableError, BACKEND_ORDER, type BackendChoice, type BackendName, type EngineInfo } from './backend';
export { flatten, unflatten, bucketLayout, type BucketLayout } from './flat';
