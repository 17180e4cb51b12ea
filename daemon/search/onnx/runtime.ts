// onnxruntime-node, loaded at first use and never bundled (247 MB of native binaries: a host that times subnets in
// ONNX Runtime installs it; exporting needs none of it).
import { createRequire } from 'node:module';
import { UserError } from '../../protocol/user-error';

export const ONNX_RUNTIME_PACKAGE = 'onnxruntime-node';

export type OnnxRuntime = typeof import('onnxruntime-node');

export class OnnxRuntimeMissingError extends UserError {
  constructor(detail?: string) {
    super(
      detail
        ? `ONNX Runtime is installed but failed to load (${detail}); reinstall it with \`npm install ${ONNX_RUNTIME_PACKAGE}\` on this host`
        : `ONNX Runtime timing needs \`npm install ${ONNX_RUNTIME_PACKAGE}\` on this host`,
      'onnx.runtime-missing',
    );
  }
}

let loaded: OnnxRuntime | undefined;

/**
 * onnxruntime-node's module (CPU binding), or a one-line OnnxRuntimeMissingError saying how to install it.
 * `packageName` is for tests (a package that is not installed).
 */
export function loadOnnxRuntime(packageName = ONNX_RUNTIME_PACKAGE): OnnxRuntime {
  if (loaded && packageName === ONNX_RUNTIME_PACKAGE) return loaded;
  let mod: OnnxRuntime;
  try {
    mod = createRequire(__filename)(packageName) as OnnxRuntime;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === 'MODULE_NOT_FOUND' && err.message?.includes(packageName)) throw new OnnxRuntimeMissingError();
    throw new OnnxRuntimeMissingError((err.message ?? String(e)).split('\n')[0]);
  }
  if (packageName === ONNX_RUNTIME_PACKAGE) loaded = mod;
  return mod;
}
