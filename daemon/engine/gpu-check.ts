// Whether the GPU engine really computes on a GPU. @tensorflow/tfjs-node-gpu 4.x loads libtensorflow 2.9, built for
// CUDA 11.2 and cuDNN 8.1; on a host with only CUDA 12 it logs "Could not load dynamic library 'libcudart.so.11.0'"
// and quietly runs on the CPU. So the check looks at what is there (nvidia-smi's GPUs, the CUDA 11 libraries on the
// library path), then loads the engine in a short child process — with the environment the daemon's workers get —
// and reads what libtensorflow logs, which device it reports, and how long a 1024×1024 matMul takes. The verdict
// names the missing libraries and how to provide them to the daemon alone (MANTA_LD_LIBRARY_PATH).
// The engine is never loaded into the calling process: a CUDA initialisation that hangs or crashes stays in the child.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GpuEngineStatus } from '../protocol/methods';

export type { GpuEngineStatus };

export const GPU_ENGINE_PACKAGE = '@tensorflow/tfjs-node-gpu';

/** The shared libraries libtensorflow 2.9 (tfjs-node-gpu 4.x) dlopens for CUDA 11.2 and cuDNN 8.1, by soname. */
export const CUDA11_LIBRARIES = [
  'libcudart.so.11.0',
  'libcublas.so.11',
  'libcublasLt.so.11',
  'libcufft.so.10',
  'libcurand.so.10',
  'libcusolver.so.11',
  'libcusparse.so.11',
  'libcudnn.so.8',
] as const;

/** The pip wheel that ships each library (in its nvidia/<name>/lib folder). */
const WHEELS: Record<string, string> = {
  'libcudart.so.11.0': 'nvidia-cuda-runtime-cu11',
  'libcublas.so.11': 'nvidia-cublas-cu11',
  'libcublasLt.so.11': 'nvidia-cublas-cu11',
  'libcufft.so.10': 'nvidia-cufft-cu11',
  'libcurand.so.10': 'nvidia-curand-cu11',
  'libcusolver.so.11': 'nvidia-cusolver-cu11',
  'libcusparse.so.11': 'nvidia-cusparse-cu11',
  'libcudnn.so.8': 'nvidia-cudnn-cu11',
};

/** Where CUDA installs put these libraries besides the loader's cache; the dynamic loader itself looks in the last ones. */
export const STANDARD_LIBRARY_DIRS = [
  '/usr/local/cuda/lib64',
  '/usr/local/cuda-11.2/lib64',
  '/usr/local/cuda-11/lib64',
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib/x86_64-linux-gnu',
  '/lib64',
  '/lib',
];

/** The folder the advice suggests for the libraries: the user's own, outside any system path. */
export const SUGGESTED_LIBRARY_DIR = '~/.manta/cuda11/lib';

/** The variable that puts folders first on LD_LIBRARY_PATH of the daemon's workers (and of this check) only. */
export const MANTA_LIBRARY_PATH_ENV = 'MANTA_LD_LIBRARY_PATH';

function expandHome(dir: string): string {
  return dir === '~' || dir.startsWith('~/') ? path.join(os.homedir(), dir.slice(1)) : dir;
}

/**
 * The environment of a process the daemon forks to compute: MANTA_LD_LIBRARY_PATH (folders, `:`-separated, `~/`
 * allowed) first on LD_LIBRARY_PATH. The loader reads LD_LIBRARY_PATH when a process starts, which is why the
 * daemon passes it to its children rather than setting it for itself. Unchanged when the variable is unset.
 */
export function withMantaLibraryPath(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const extra = (env[MANTA_LIBRARY_PATH_ENV] ?? '').split(':').filter(Boolean).map(expandHome);
  if (extra.length === 0) return env;
  const current = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (extra.every((d, i) => current[i] === d)) return env; // a child of a child: already first
  return { ...env, LD_LIBRARY_PATH: [...extra, ...current].join(':') };
}

/** The library names `ldconfig -p` lists (lines such as `\tlibcudart.so.11.0 (libc6,x86-64) => /usr/…`). */
export function parseLdconfig(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s+(\S+)\s+\(.*\)\s+=>\s+\S/.exec(line);
    if (m) names.add(m[1]);
  }
  return names;
}

export interface LibrarySearch {
  /** LD_LIBRARY_PATH as the workers get it (see withMantaLibraryPath). */
  ldLibraryPath?: string;
  /** The output of `ldconfig -p` (the loader's cache); absent when it could not be run. */
  ldconfig?: string;
  /** Folders searched besides those (default STANDARD_LIBRARY_DIRS). */
  standardDirs?: readonly string[];
  /** The libraries looked for (default CUDA11_LIBRARIES). */
  libraries?: readonly string[];
  exists?: (file: string) => boolean;
}

/** The libraries of `search.libraries` found in none of: LD_LIBRARY_PATH's folders, the loader's cache, the standard folders. */
export function findMissingLibraries(search: LibrarySearch): string[] {
  const exists = search.exists ?? existsSync;
  const cached = parseLdconfig(search.ldconfig ?? '');
  const dirs = [...(search.ldLibraryPath ?? '').split(':').filter(Boolean), ...(search.standardDirs ?? STANDARD_LIBRARY_DIRS)];
  return (search.libraries ?? CUDA11_LIBRARIES).filter((lib) => !cached.has(lib) && !dirs.some((d) => exists(path.join(d, lib))));
}

/** The GPUs of `nvidia-smi -L` (`GPU 0: NVIDIA H200 (UUID: GPU-…)` → `GPU 0: NVIDIA H200`); MIG instances are not GPUs of their own here. */
export function parseNvidiaSmiList(text: string): string[] {
  const gpus: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^GPU (\d+): (.*?)\s*(\(UUID: [^)]*\))?\s*$/.exec(line.trim());
    if (m) gpus.push(`GPU ${m[1]}: ${m[2]}`);
  }
  return gpus;
}

export interface TensorflowLog {
  /** Libraries of "Could not load dynamic library 'X'" lines, in order, once each. */
  missing: string[];
  /** GPU devices libtensorflow created, e.g. 'GPU:0 NVIDIA H200'. */
  gpuDevices: string[];
}

/** What libtensorflow's log (stderr while loading and computing) says about the GPU. */
export function parseTensorflowLog(stderr: string): TensorflowLog {
  const missing: string[] = [];
  const gpuDevices: string[] = [];
  for (const line of stderr.split('\n')) {
    const lib = /Could not load dynamic library '([^']+)'/.exec(line);
    if (lib && !missing.includes(lib[1])) missing.push(lib[1]);
    // TF 2.x: "Created device /job:localhost/replica:0/task:0/device:GPU:0 with 1000 MB memory:  -> device: 0, name: NVIDIA H200, pci bus id: …"
    // (older: "Created TensorFlow device (…/device:GPU:0 with …) -> physical GPU (device: 0, name: …, …)").
    const dev = /Created (?:TensorFlow )?device \(?\S*device:GPU:(\d+)\b.*?name: ([^,)]+)/.exec(line);
    if (dev) {
      const name = `GPU:${dev[1]} ${dev[2].trim()}`;
      if (!gpuDevices.includes(name)) gpuDevices.push(name);
    }
  }
  return { missing, gpuDevices };
}

/** How the child that loaded the engine ended. */
export type EngineProbe =
  | { ok: true; stderr: string; usingGpu?: boolean; matMulMs: number }
  | { ok: false; stderr: string; error: string };

export interface VerdictInput {
  gpus: string[];
  engine: GpuEngineStatus['engine'];
  /** The libraries the search of the library path did not find. */
  staticMissing: string[];
  probe?: EngineProbe;
  /** The tfjs version MANTA runs, for the install line. */
  tfjsVersion?: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** How to provide `missing` to the daemon alone. */
export function libraryAdvice(missing: readonly string[]): string {
  const wheels = [...new Set(missing.map((l) => WHEELS[l]).filter(Boolean))];
  const from = wheels.length > 0 ? `NVIDIA's redistributable archives of CUDA 11.2 and cuDNN 8.1, or the lib folders of the pip wheels ${wheels.join(', ')}` : "NVIDIA's redistributable archives of CUDA 11.2 and cuDNN 8.1";
  return (
    `Put the CUDA 11 runtime and cuDNN 8 libraries in a folder of your own, e.g. ${SUGGESTED_LIBRARY_DIR} (from ${from}), ` +
    `and start the daemon with ${MANTA_LIBRARY_PATH_ENV}=${SUGGESTED_LIBRARY_DIR}: the daemon puts it first on LD_LIBRARY_PATH of its ` +
    'workers only, so nothing else on the host changes. The host keeps its own CUDA; the NVIDIA driver must be 450.80 or newer.'
  );
}

/** The verdict from what was found (pure). */
export function gpuEngineVerdict(input: VerdictInput): GpuEngineStatus {
  const { gpus, engine, probe } = input;
  const log = probe ? parseTensorflowLog(probe.stderr) : { missing: [], gpuDevices: [] };
  let onGpu: boolean | undefined;
  if (engine !== 'none' && probe?.ok) onGpu = probe.usingGpu ?? (log.gpuDevices.length > 0 ? true : log.missing.length > 0 || gpus.length === 0 ? false : undefined);
  // The child's log is what the loader really did; the search of the library path is the estimate without one.
  // Without a GPU the libraries matter only as far as the engine's own log names them.
  const missingLibraries = onGpu === true ? [] : log.missing.length > 0 ? log.missing : gpus.length > 0 ? input.staticMissing : [];
  const status: GpuEngineStatus = { gpus, engine, onGpu, missingLibraries };
  if (probe?.ok) {
    status.timedMatMulMs = Math.round(probe.matMulMs * 100) / 100;
    status.device = onGpu ? (log.gpuDevices[0] ?? 'GPU') : onGpu === false ? 'CPU' : undefined;
    if (status.device === undefined) delete status.device;
  }
  const missingLine = missingLibraries.length > 0 ? ` It cannot load ${missingLibraries.join(', ')}. ${libraryAdvice(missingLibraries)}` : '';
  const gpuWords = plural(gpus.length, 'GPU');
  if (engine === 'none') {
    if (gpus.length > 0) {
      const version = input.tfjsVersion ? `@${input.tfjsVersion}` : '';
      status.advice =
        `nvidia-smi lists ${gpuWords}, but ${GPU_ENGINE_PACKAGE} is not installed where the daemon loads its engines, so runs train on ` +
        `the CPU. Install it next to MANTA (npm install ${GPU_ENGINE_PACKAGE}${version}); it needs libtensorflow 2.9's CUDA 11.2 and cuDNN 8.1 libraries.` +
        (missingLibraries.length > 0 ? ` Missing on the library path now: ${missingLibraries.join(', ')}. ${libraryAdvice(missingLibraries)}` : '');
    }
  } else if (probe && !probe.ok) {
    status.advice = `${GPU_ENGINE_PACKAGE} failed to load or compute in a test process (${probe.error}); runs on the tensorflow backend would fail or use the CPU.${missingLine}`;
  } else if (onGpu === false) {
    status.advice =
      gpus.length === 0
        ? `${GPU_ENGINE_PACKAGE} runs on the CPU: nvidia-smi lists no GPU here (is the NVIDIA driver installed?).`
        : `${GPU_ENGINE_PACKAGE} would run on the CPU, not on the ${gpuWords} nvidia-smi lists: libtensorflow 2.9 needs CUDA 11.2 and cuDNN 8.1.${missingLine}`;
  } else if (onGpu === undefined && missingLibraries.length > 0) {
    status.advice = `${GPU_ENGINE_PACKAGE} may run on the CPU: its log did not say which device it uses.${missingLine}`;
  }
  return status;
}

// ——— the checks that touch the host ———

/** Runs a command; its stdout, or undefined when it is missing, fails or takes longer than `timeoutMs`. */
function output(file: string, args: string[], timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 8 << 20, encoding: 'utf8' }, (err, stdout) => resolve(err ? undefined : stdout));
  });
}

/** `ldconfig -p`: ldconfig often lives in /sbin, outside a user's PATH. */
async function ldconfigCache(): Promise<string | undefined> {
  for (const file of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const text = await output(file, ['-p']);
    if (text !== undefined) return text;
  }
  return undefined;
}

/** The engine's entry file where the daemon's workers would load it from (beside this bundle), or undefined. */
function resolveEngine(name: string): string | undefined {
  try {
    return createRequire(__filename).resolve(name);
  } catch {
    return undefined;
  }
}

// Loads the engine, warms up, times one matMul, and prints what it saw as one JSON line; libtensorflow writes its own
// log lines to the same process's stderr, which the parent reads.
const PROBE_SCRIPT = `
const tf = require(process.argv[1]);
const backend = tf.backend();
const a = tf.randomUniform([1024, 1024]);
tf.matMul(a, a).dataSync();
const t0 = process.hrtime.bigint();
tf.matMul(a, a).dataSync();
const matMulMs = Number(process.hrtime.bigint() - t0) / 1e6;
const usingGpu = typeof backend.isUsingGpuDevice === 'boolean' ? backend.isUsingGpuDevice : null;
process.stdout.write(JSON.stringify({ backend: tf.getBackend(), usingGpu, matMulMs }) + '\\n');
`;

const MAX_LOG_CHARS = 256 * 1024;

/** Loads the engine at `entry` in a child process with `env`; never throws. */
export function probeEngine(entry: string, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<EngineProbe> {
  return new Promise((resolve) => {
    // TF_CPP_MIN_LOG_LEVEL 0: the "Created device" and "Could not load" lines are what the verdict reads.
    const child = spawn(process.execPath, ['-e', PROBE_SCRIPT, entry], { env: { ...env, TF_CPP_MIN_LOG_LEVEL: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (t: string) => (stdout = (stdout + t).slice(-MAX_LOG_CHARS)));
    child.stderr.on('data', (t: string) => (stderr = (stderr + t).slice(-MAX_LOG_CHARS)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    timer.unref();
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, stderr, error: `cannot start node: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as { usingGpu?: boolean | null; matMulMs?: number };
        if (code === 0 && typeof r.matMulMs === 'number') {
          resolve({ ok: true, stderr, matMulMs: r.matMulMs, ...(typeof r.usingGpu === 'boolean' ? { usingGpu: r.usingGpu } : {}) });
          return;
        }
      } catch {
        // no result line: described below
      }
      const last = stderr.trim().split('\n').filter((l) => !/Could not load dynamic library/.test(l)).pop()?.trim();
      const why = timedOut ? `no answer within ${Math.round(timeoutMs / 1000)} s` : signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve({ ok: false, stderr, error: `${why}${last ? `: ${last.slice(0, 300)}` : ''}` });
    });
  });
}

export interface GpuCheckOptions {
  /** The environment the daemon's workers start from (default process.env); MANTA_LD_LIBRARY_PATH is applied. */
  env?: NodeJS.ProcessEnv;
  /** The engine's entry file; default: resolved like the workers resolve it. Null: treat it as not installed. */
  engineEntry?: string | null;
  /** `nvidia-smi -L`'s output; default: run it. */
  nvidiaSmi?: () => Promise<string | undefined>;
  /** `ldconfig -p`'s output; default: run it. */
  ldconfig?: () => Promise<string | undefined>;
  standardDirs?: readonly string[];
  tfjsVersion?: string;
  timeoutMs?: number;
}

/** The whole check: GPUs, libraries, and (when the engine is installed) a child process that loads it. Never throws. */
export async function checkGpuEngine(opts: GpuCheckOptions = {}): Promise<GpuEngineStatus> {
  const env = withMantaLibraryPath(opts.env ?? process.env);
  const gpus = parseNvidiaSmiList((await (opts.nvidiaSmi ?? (() => output('nvidia-smi', ['-L'])))()) ?? '');
  const entry = opts.engineEntry === null ? undefined : (opts.engineEntry ?? resolveEngine(GPU_ENGINE_PACKAGE));
  const engine = entry ? 'tfjs-node-gpu' : 'none';
  if (gpus.length === 0 && !entry) return gpuEngineVerdict({ gpus, engine, staticMissing: [] });
  const staticMissing =
    gpus.length === 0
      ? []
      : findMissingLibraries({
          ldLibraryPath: env.LD_LIBRARY_PATH,
          ldconfig: await (opts.ldconfig ?? ldconfigCache)(),
          ...(opts.standardDirs ? { standardDirs: opts.standardDirs } : {}),
        });
  const probe = entry ? await probeEngine(entry, env, opts.timeoutMs) : undefined;
  return gpuEngineVerdict({ gpus, engine, staticMissing, ...(probe ? { probe } : {}), ...(opts.tfjsVersion ? { tfjsVersion: opts.tfjsVersion } : {}) });
}

/** The verdict as lines for a terminal (`manta info`). */
export function formatGpuEngine(s: GpuEngineStatus): string[] {
  const lines = [`gpus     ${s.gpus.length > 0 ? s.gpus.join('; ') : 'none (nvidia-smi lists none or is missing)'}`];
  if (s.engine === 'none') lines.push(`gpu via  ${GPU_ENGINE_PACKAGE} is not installed`);
  else {
    const where = s.onGpu === true ? `on ${s.device ?? 'the GPU'}` : s.onGpu === false ? 'on the CPU' : 'device unknown';
    lines.push(`gpu via  ${GPU_ENGINE_PACKAGE}: ${where}${s.timedMatMulMs !== undefined ? `, 1024×1024 matMul ${s.timedMatMulMs} ms` : ''}`);
  }
  if (s.missingLibraries.length > 0) lines.push(`missing  ${s.missingLibraries.join(', ')}`);
  if (s.advice) lines.push(`advice   ${s.advice}`);
  return lines;
}
