// Backend selection: which tfjs backend MANTA trains on, and what it runs on. Order unless one is named (MANTA_BACKEND
// wins over the config): tensorflow (tfjs-node-gpu, then tfjs-node) → webgpu (optional `webgpu` package with an
// adapter) → wasm (with MANTA's training kernels) → cpu. The optional packages are loaded at run time by computed
// name, so bundles never contain them and `npm ci` never needs them.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../protocol/events';
import type { BackendChoice, BackendName } from '../protocol/values';
import { registerWasmKernels } from './kernels';

export type { BackendChoice, BackendName };

export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

export type EngineInfo = BackendInfo & {
  /** Threads the backend computes with. */
  threads: number;
  /** wasm only: whether the SIMD build runs. */
  simd?: boolean;
};

/** A backend was named (config or MANTA_BACKEND) but cannot load here; the message says what to install. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: string,
    message: string,
  ) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

const WASM_BINARIES = { simd: 'tfjs-backend-wasm-simd.wasm', plain: 'tfjs-backend-wasm.wasm' } as const;

/** Loads an optional package by a name esbuild cannot see, so that it is never bundled or required at build time. */
function loadOptional(name: string): unknown {
  return createRequire(__filename)(name);
}

/** Why an optional package did not load: absent (undefined), or installed but broken (its first error line). */
function loadFailure(pkg: string, e: unknown): string | undefined {
  const err = e as { code?: string; message?: string };
  if (err.code === 'MODULE_NOT_FOUND' && err.message?.includes(pkg)) return undefined;
  return `${pkg} is installed but failed to load: ${(err.message ?? String(e)).split('\n')[0]}`;
}

function cpuModel(): string {
  return os.cpus()[0]?.model.trim() ?? os.arch();
}

/** What each backend started by initEngine runs on, by tfjs backend name. */
const started = new Map<string, EngineInfo>();

interface Attempt {
  info?: EngineInfo;
  /** Why it is unavailable: the one-line message a named backend throws. */
  reason?: string;
}

async function tryTensorflow(): Promise<Attempt> {
  let broken: string | undefined;
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    let mod: { version?: Record<string, string> };
    try {
      mod = loadOptional(pkg) as typeof mod;
    } catch (e) {
      broken ??= loadFailure(pkg, e);
      continue;
    }
    if (!tf.findBackend('tensorflow') || !(await tf.setBackend('tensorflow'))) {
      return { reason: `backend 'tensorflow': ${pkg} loaded but did not register with MANTA's tfjs ${tf.version.tfjs}; install ${pkg}@${tf.version.tfjs}` };
    }
    // tfjs-node-gpu without its CUDA 11 libraries loads, logs that it could not load them, and computes on the CPU:
    // say so rather than name a GPU it does not use (gpu-check.ts tells which libraries are missing).
    const usingGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
    const gpu = pkg.endsWith('-gpu') && usingGpu !== false;
    const threads = os.cpus().length;
    const version = mod.version?.['tfjs-node'] ?? tf.version.tfjs;
    return {
      info: {
        backend: 'tensorflow',
        version: version === tf.version.tfjs ? tf.version.tfjs : `${tf.version.tfjs} (${pkg} ${version})`,
        device: gpu
          ? `GPU (CUDA) via ${pkg}`
          : `CPU: ${cpuModel()} (${threads} threads), libtensorflow${pkg.endsWith('-gpu') ? ` (${pkg} found no usable GPU: see manta info)` : ''}`,
        threads,
      },
    };
  }
  const install = 'npm install @tensorflow/tfjs-node-gpu (CUDA GPU) or @tensorflow/tfjs-node (CPU)';
  return { reason: broken ? `backend 'tensorflow': ${broken}; reinstall it (${install})` : `backend 'tensorflow' is not installed: ${install}` };
}

interface GpuAdapter {
  info?: { description?: string; vendor?: string; architecture?: string; device?: string };
}
interface GpuEntry {
  requestAdapter(): Promise<GpuAdapter | null>;
}

async function tryWebgpu(): Promise<Attempt> {
  const install = 'npm install webgpu @tensorflow/tfjs-backend-webgpu';
  let gpu: GpuEntry;
  try {
    const dawn = loadOptional('webgpu') as { create(flags: string[]): GpuEntry; globals?: object };
    if (dawn.globals) Object.assign(globalThis, dawn.globals);
    gpu = dawn.create([]);
  } catch (e) {
    const broken = loadFailure('webgpu', e);
    return { reason: broken ? `backend 'webgpu': ${broken}` : `backend 'webgpu' is not installed: ${install}` };
  }
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { reason: "backend 'webgpu': no GPU adapter found (is a GPU with a Vulkan, Metal or D3D12 driver present?)" };
  const nav = (globalThis as { navigator?: { gpu?: GpuEntry } }).navigator;
  if (nav) nav.gpu ??= gpu;
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  try {
    loadOptional('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    const broken = loadFailure('@tensorflow/tfjs-backend-webgpu', e);
    return { reason: broken ? `backend 'webgpu': ${broken}` : `backend 'webgpu' is not installed: ${install}` };
  }
  if (!(await tf.setBackend('webgpu').catch(() => false))) return { reason: "backend 'webgpu' failed to start on this GPU adapter" };
  const a = adapter.info ?? {};
  const name = a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' ') || 'unknown adapter';
  return { info: { backend: 'webgpu', version: tf.version.tfjs, device: `GPU: ${name} (WebGPU)`, threads: 1 } };
}

function simdSupported(): boolean {
  // i32x4.splat of a constant: the smallest SIMD module (the same probe tfjs uses).
  return WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11]));
}

/** Folders that may hold tfjs's wasm binaries, in order: MANTA_WASM_DIR, next to the running bundle, node_modules. */
export function wasmDirCandidates(): string[] {
  const dirs: string[] = [];
  if (process.env.MANTA_WASM_DIR) dirs.push(path.resolve(process.env.MANTA_WASM_DIR));
  dirs.push(__dirname);
  try {
    dirs.push(path.join(path.dirname(createRequire(__filename).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch {
    // not installed: the error below names the other places
  }
  return dirs;
}

async function tryWasm(): Promise<Attempt> {
  const simd = simdSupported();
  if (!simd) return { reason: "backend 'wasm' needs WebAssembly SIMD, which this Node.js lacks: use Node.js 20 or later" };
  const binary = WASM_BINARIES.simd;
  const dirs = wasmDirCandidates();
  const dir = dirs.find((d) => fs.existsSync(path.join(d, binary)));
  if (!dir) {
    return { reason: `backend 'wasm': ${binary} not found in ${dirs.join(', ')}; set MANTA_WASM_DIR to a folder holding it or reinstall MANTA` };
  }
  // Imported here, not at the top: loading the package registers the wasm backend, which would otherwise become
  // tfjs's default for code that uses tf before initEngine and does not await tf.ready().
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  try {
    // A prefix, not a file map: tfjs picks the binary (SIMD here) inside it; Node reads it as a file path.
    wasm.setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
  } catch {
    // the backend already started once in this process, with the paths it had then
  }
  registerWasmKernels();
  if (!(await tf.setBackend('wasm').catch(() => false))) {
    return { reason: `backend 'wasm' failed to start from ${path.join(dir, binary)}; reinstall MANTA or set MANTA_WASM_DIR` };
  }
  return {
    info: {
      backend: 'wasm',
      version: wasm.version_wasm === tf.version.tfjs ? tf.version.tfjs : `${tf.version.tfjs} (tfjs-backend-wasm ${wasm.version_wasm})`,
      device: `CPU: ${cpuModel()} (1 thread), wasm SIMD`,
      threads: 1,
      simd,
    },
  };
}

async function tryCpu(): Promise<Attempt> {
  await tf.setBackend('cpu');
  return { info: { backend: 'cpu', version: tf.version.tfjs, device: `CPU: ${cpuModel()} (1 thread), JavaScript`, threads: 1 } };
}

const attempts: Record<BackendName, () => Promise<Attempt>> = {
  tensorflow: tryTensorflow,
  webgpu: tryWebgpu,
  wasm: tryWasm,
  cpu: tryCpu,
};

/** The backend asked for: MANTA_BACKEND if set, else the option, else auto. Throws on a name that is no backend. */
export function requestedBackend(option?: string): BackendChoice {
  const name = (process.env.MANTA_BACKEND || option || 'auto').trim().toLowerCase();
  if (name === 'auto' || (BACKEND_ORDER as readonly string[]).includes(name)) return name as BackendChoice;
  const source = process.env.MANTA_BACKEND ? `MANTA_BACKEND=${process.env.MANTA_BACKEND}` : `backend "${option}"`;
  throw new BackendUnavailableError(name, `${source} is not a backend: use auto, ${BACKEND_ORDER.join(', ')}`);
}

/** tfjs's cpu backend asks Node users to install tfjs-node on first use; MANTA has chosen its backend already. */
function silenceNodeNag(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
}

/**
 * Selects and starts the backend. Named (option or MANTA_BACKEND) but unavailable: throws BackendUnavailableError.
 * Auto: the first that starts, in BACKEND_ORDER.
 */
export async function initEngine(opts: { backend?: BackendChoice } = {}): Promise<EngineInfo> {
  const choice = requestedBackend(opts.backend);
  silenceNodeNag();
  const order = choice === 'auto' ? BACKEND_ORDER : [choice];
  for (const name of order) {
    const attempt = await attempts[name]();
    if (attempt.info) {
      await tf.ready();
      started.set(attempt.info.backend, attempt.info);
      return attempt.info;
    }
    if (choice !== 'auto') throw new BackendUnavailableError(name, attempt.reason ?? `backend '${name}' is not available`);
  }
  throw new BackendUnavailableError(choice, 'no tfjs backend could start');
}

/** What tfjs's current backend runs on, if initEngine started it; undefined otherwise. */
export function engineInfo(): EngineInfo | undefined {
  return started.get(tf.getBackend());
}
