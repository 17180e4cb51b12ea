// The GPU engine check (daemon/engine/gpu-check.ts): the CUDA 11 library finder over real folders holding empty .so
// files and a sample `ldconfig -p`, nvidia-smi's and libtensorflow's output as hosts print them, the verdict and its
// advice, MANTA_LD_LIBRARY_PATH, and the child process that loads the engine — driven here by stand-in engines
// (small modules in a temp folder) that behave like tfjs-node-gpu on a host without CUDA 11, on a GPU, and broken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CUDA11_LIBRARIES,
  checkGpuEngine,
  findMissingLibraries,
  gpuEngineVerdict,
  parseLdconfig,
  parseNvidiaSmiList,
  parseTensorflowLog,
  withMantaLibraryPath,
} from '../../daemon/engine/gpu-check';

const root = mkdtempSync(path.join(os.tmpdir(), 'manta-gpu-check-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

function folderWith(name: string, files: string[]): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(path.join(dir, f), '');
  return dir;
}

const NVIDIA_SMI_L = `GPU 0: NVIDIA H200 (UUID: GPU-5e1a4b9c-3d7f-2a61-8c0e-9f4b2d6a7c13)
GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-0b7c9d2e-11aa-4f3b-b2c1-7e8d9f0a1b2c)
  MIG 3g.40gb     Device  0: (UUID: MIG-2f0c1a3b-8d9e-5f6a-b7c8-d9e0f1a2b3c4)
`;

const LDCONFIG_P = `912 libs found in cache \`/etc/ld.so.cache'
	libz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1
	libcufft.so.10 (libc6,x86-64) => /usr/local/cuda-11.2/lib64/libcufft.so.10
	libcudart.so.12 (libc6,x86-64) => /usr/local/cuda-12.4/lib64/libcudart.so.12
`;

// What libtensorflow 2.9 logs on a host with only CUDA 12 (tfjs-node-gpu 4.x then computes on the CPU).
const TF_CPU_FALLBACK = `2024-05-02 10:11:12.000001: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory
2024-05-02 10:11:12.000002: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcublas.so.11'; dlerror: libcublas.so.11: cannot open shared object file: No such file or directory
2024-05-02 10:11:12.000003: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory
2024-05-02 10:11:12.000004: W tensorflow/core/common_runtime/gpu/gpu_device.cc:1850] Cannot dlopen some GPU libraries. Please make sure the missing libraries mentioned above are installed properly if you would like to use GPU.
`;
const TF_ON_GPU = `2024-05-02 10:11:12.000005: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1532] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 137000 MB memory:  -> device: 0, name: NVIDIA H200, pci bus id: 0000:18:00.0, compute capability: 9.0
`;

test('the library finder looks in LD_LIBRARY_PATH, the loader cache and the standard folders, nowhere else', () => {
  const onPath = folderWith('on-path', ['libcudart.so.11.0', 'libcublas.so.11', 'libcudart.so.12']);
  const standard = folderWith('standard', ['libcudnn.so.8']);
  folderWith('elsewhere', ['libcurand.so.10', 'libcusolver.so.11']); // a folder nobody searches
  const missing = findMissingLibraries({ ldLibraryPath: `/nonexistent:${onPath}`, ldconfig: LDCONFIG_P, standardDirs: [standard] });
  assert.deepEqual(missing, ['libcublasLt.so.11', 'libcurand.so.10', 'libcusolver.so.11', 'libcusparse.so.11']);
  // Nothing anywhere: all eight, in the engine's order; everything in one folder: none.
  assert.deepEqual(findMissingLibraries({ standardDirs: [] }), [...CUDA11_LIBRARIES]);
  const all = folderWith('all', [...CUDA11_LIBRARIES]);
  assert.deepEqual(findMissingLibraries({ ldLibraryPath: all, standardDirs: [] }), []);
  assert.deepEqual([...parseLdconfig(LDCONFIG_P)].sort(), ['libcudart.so.12', 'libcufft.so.10', 'libz.so.1']);
});

test('nvidia-smi -L lists GPUs (MIG instances are not GPUs of their own); libtensorflow\'s log names what it lacks', () => {
  assert.deepEqual(parseNvidiaSmiList(NVIDIA_SMI_L), ['GPU 0: NVIDIA H200', 'GPU 1: NVIDIA A100-SXM4-80GB']);
  assert.deepEqual(parseNvidiaSmiList(''), []);
  assert.deepEqual(parseNvidiaSmiList('NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.\n'), []);
  assert.deepEqual(parseTensorflowLog(TF_CPU_FALLBACK + TF_CPU_FALLBACK), { missing: ['libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8'], gpuDevices: [] });
  assert.deepEqual(parseTensorflowLog(TF_ON_GPU), { missing: [], gpuDevices: ['GPU:0 NVIDIA H200'] });
});

test('MANTA_LD_LIBRARY_PATH goes first on LD_LIBRARY_PATH, once, with ~ expanded', () => {
  const env = withMantaLibraryPath({ MANTA_LD_LIBRARY_PATH: '~/.manta/cuda11/lib:/opt/cudnn8', LD_LIBRARY_PATH: '/usr/lib/x' });
  assert.equal(env.LD_LIBRARY_PATH, `${path.join(os.homedir(), '.manta/cuda11/lib')}:/opt/cudnn8:/usr/lib/x`);
  assert.equal(withMantaLibraryPath(env).LD_LIBRARY_PATH, env.LD_LIBRARY_PATH, 'a child of a child gets it once');
  assert.equal(withMantaLibraryPath({ MANTA_LD_LIBRARY_PATH: '/a' }).LD_LIBRARY_PATH, '/a');
  const plain = { LD_LIBRARY_PATH: '/x' };
  assert.equal(withMantaLibraryPath(plain), plain, 'unset: unchanged');
});

test('the verdict: CPU fallback names the missing libraries and how to give them to the daemon alone; a GPU run needs no advice', () => {
  const gpus = ['GPU 0: NVIDIA H200'];
  const cpu = gpuEngineVerdict({ gpus, engine: 'tfjs-node-gpu', staticMissing: ['libcufft.so.10'], probe: { ok: true, stderr: TF_CPU_FALLBACK, usingGpu: false, matMulMs: 41.234 } });
  assert.equal(cpu.onGpu, false);
  assert.equal(cpu.device, 'CPU');
  assert.equal(cpu.timedMatMulMs, 41.23);
  assert.deepEqual(cpu.missingLibraries, ['libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8'], 'what the loader really missed wins over the search');
  for (const part of [/would run on the CPU/, /libcudart\.so\.11\.0, libcublas\.so\.11, libcudnn\.so\.8/, /~\/\.manta\/cuda11\/lib/, /MANTA_LD_LIBRARY_PATH=/, /workers only/, /nvidia-cudnn-cu11/, /nvidia-cuda-runtime-cu11/, /nvidia-cublas-cu11/]) {
    assert.match(cpu.advice ?? '', part);
  }
  assert.doesNotMatch(cpu.advice ?? '', /nvidia-cufft-cu11/, 'only the wheels of missing libraries');

  const gpu = gpuEngineVerdict({ gpus, engine: 'tfjs-node-gpu', staticMissing: ['libcufft.so.10'], probe: { ok: true, stderr: TF_ON_GPU, usingGpu: true, matMulMs: 0.8 } });
  assert.deepEqual(gpu, { gpus, engine: 'tfjs-node-gpu', onGpu: true, missingLibraries: [], device: 'GPU:0 NVIDIA H200', timedMatMulMs: 0.8 });

  const noEngine = gpuEngineVerdict({ gpus, engine: 'none', staticMissing: ['libcudnn.so.8'], tfjsVersion: '4.22.0' });
  assert.equal(noEngine.onGpu, undefined);
  assert.deepEqual(noEngine.missingLibraries, ['libcudnn.so.8']);
  assert.match(noEngine.advice ?? '', /npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/);

  assert.deepEqual(gpuEngineVerdict({ gpus: [], engine: 'none', staticMissing: [] }), { gpus: [], engine: 'none', onGpu: undefined, missingLibraries: [] });
});

/** A stand-in for tfjs-node-gpu: logs like libtensorflow to stderr, computes a tiny fake matMul. */
function fakeEngine(name: string, body: string): string {
  const file = path.join(folderWith(`engine-${name}`, []), 'index.js');
  writeFileSync(
    file,
    `${body}
const t = { dataSync: () => new Float32Array(1) };
module.exports = { backend: () => backend, getBackend: () => 'tensorflow', randomUniform: () => t, matMul: () => t };\n`,
  );
  return file;
}

test('the check loads the engine in a child process with the workers\' library path and reads its log', { timeout: 30_000 }, async () => {
  const libs = folderWith('mine', ['libcudnn.so.8']);
  // Falls back to the CPU as libtensorflow does — and fails unless it got MANTA_LD_LIBRARY_PATH first on its path.
  const fallback = fakeEngine(
    'cpu',
    `if (!(process.env.LD_LIBRARY_PATH || '').startsWith(process.env.MANTA_LD_LIBRARY_PATH)) throw new Error('LD_LIBRARY_PATH lacks MANTA_LD_LIBRARY_PATH');
process.stderr.write(${JSON.stringify(TF_CPU_FALLBACK)});
const backend = { isUsingGpuDevice: false };`,
  );
  const env = { PATH: process.env.PATH, MANTA_LD_LIBRARY_PATH: libs, LD_LIBRARY_PATH: '/usr/lib/nothing' };
  const cpu = await checkGpuEngine({ env, engineEntry: fallback, nvidiaSmi: async () => NVIDIA_SMI_L, ldconfig: async () => LDCONFIG_P, standardDirs: [] });
  assert.equal(cpu.engine, 'tfjs-node-gpu');
  assert.deepEqual(cpu.gpus, ['GPU 0: NVIDIA H200', 'GPU 1: NVIDIA A100-SXM4-80GB']);
  assert.equal(cpu.onGpu, false, JSON.stringify(cpu));
  assert.deepEqual(cpu.missingLibraries, ['libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8']);
  assert.equal(typeof cpu.timedMatMulMs, 'number');
  assert.match(cpu.advice ?? '', /not on the 2 GPUs/);

  const onGpu = fakeEngine('gpu', `process.stderr.write(${JSON.stringify(TF_ON_GPU)});\nconst backend = { isUsingGpuDevice: true };`);
  const good = await checkGpuEngine({ env, engineEntry: onGpu, nvidiaSmi: async () => NVIDIA_SMI_L, ldconfig: async () => '', standardDirs: [] });
  assert.equal(good.onGpu, true);
  assert.equal(good.device, 'GPU:0 NVIDIA H200');
  assert.deepEqual(good.missingLibraries, []);
  assert.equal(good.advice, undefined);

  const broken = fakeEngine('broken', `process.stderr.write('Illegal instruction in libtensorflow\\n');\nprocess.exit(3);\nconst backend = {};`);
  const failed = await checkGpuEngine({ env, engineEntry: broken, nvidiaSmi: async () => NVIDIA_SMI_L, ldconfig: async () => '', standardDirs: [] });
  assert.equal(failed.onGpu, undefined);
  // Without the engine's log, the search of the library path: MANTA_LD_LIBRARY_PATH's folder holds libcudnn.so.8.
  assert.deepEqual(failed.missingLibraries, CUDA11_LIBRARIES.filter((l) => l !== 'libcudnn.so.8'));
  assert.match(failed.advice ?? '', /failed to load or compute in a test process \(exit code 3: Illegal instruction in libtensorflow\)/);

  // No GPU and no engine: nothing is run, nothing to advise.
  const none = await checkGpuEngine({ env, engineEntry: null, nvidiaSmi: async () => undefined });
  assert.deepEqual(none, { gpus: [], engine: 'none', onGpu: undefined, missingLibraries: [] });
});
