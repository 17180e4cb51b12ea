// Backend selection: the order, MANTA_BACKEND over the config, the one-line error for a named backend that cannot
// load here, where the wasm binaries are looked for, and tfjs's "install tfjs-node" nag kept quiet.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { BackendUnavailableError, engineInfo, initEngine, tf } from '../../daemon/engine';
import { wasmDirCandidates } from '../../daemon/engine/backend';

const savedEnv = { MANTA_BACKEND: process.env.MANTA_BACKEND, MANTA_WASM_DIR: process.env.MANTA_WASM_DIR };

afterEach(() => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

function installed(pkg: string): boolean {
  try {
    createRequire(__filename).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

// First in the file: the nag fires on the cpu backend's first write in a process.
test('the cpu backend does not tell Node users to install tfjs-node', async () => {
  delete process.env.MANTA_BACKEND;
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
  try {
    const info = await initEngine({ backend: 'cpu' });
    assert.equal(info.backend, 'cpu');
    tf.tensor([1, 2, 3]).dispose();
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(warnings.filter((w) => w.includes('tfjs-node')), []);
});

test('auto takes the first backend that starts, in the documented order', async () => {
  delete process.env.MANTA_BACKEND;
  const info = await initEngine({ backend: 'auto' });
  const expected = installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node') ? 'tensorflow' : installed('webgpu') ? info.backend : 'wasm';
  assert.equal(info.backend, expected);
  assert.equal(tf.getBackend(), info.backend);
  assert.deepEqual(engineInfo(), info);
  if (info.backend === 'wasm') {
    assert.equal(info.simd, true);
    assert.equal(info.threads, 1);
    assert.match(info.device, /^CPU: .+ \(1 thread\), wasm SIMD$/);
    assert.equal(info.version, tf.version.tfjs);
  }
});

test('MANTA_BACKEND wins over the configured backend', async () => {
  process.env.MANTA_BACKEND = 'cpu';
  const info = await initEngine({ backend: 'wasm' });
  assert.equal(info.backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  process.env.MANTA_BACKEND = 'wasm';
  assert.equal((await initEngine({ backend: 'cpu' })).backend, 'wasm');
});

test('a named backend that cannot load is a one-line error naming what to install', async (t) => {
  if (installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu')) {
    t.skip('tfjs-node is installed here, so the tensorflow backend is available');
    return;
  }
  process.env.MANTA_BACKEND = 'tensorflow';
  await assert.rejects(initEngine({ backend: 'wasm' }), (e: unknown) => {
    assert.ok(e instanceof BackendUnavailableError);
    assert.equal(e.backend, 'tensorflow');
    assert.match(e.message, /@tensorflow\/tfjs-node/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  delete process.env.MANTA_BACKEND;
  if (!installed('webgpu')) {
    await assert.rejects(initEngine({ backend: 'webgpu' }), (e: unknown) => e instanceof BackendUnavailableError && /npm install webgpu/.test(e.message) && !e.message.includes('\n'));
  }
});

test('a name that is no backend is refused, naming the choices', async () => {
  process.env.MANTA_BACKEND = 'tpu';
  await assert.rejects(initEngine(), (e: unknown) => e instanceof BackendUnavailableError && /MANTA_BACKEND=tpu is not a backend: use auto, tensorflow, webgpu, wasm, cpu/.test(e.message));
});

test('the wasm binaries are looked for in MANTA_WASM_DIR, then next to the bundle, then in node_modules', () => {
  process.env.MANTA_WASM_DIR = '/opt/manta-wasm';
  const dirs = wasmDirCandidates();
  assert.equal(dirs[0], '/opt/manta-wasm');
  assert.match(dirs[dirs.length - 1], /node_modules\/@tensorflow\/tfjs-backend-wasm\/dist$/);
  delete process.env.MANTA_WASM_DIR;
  assert.ok(!wasmDirCandidates().includes('/opt/manta-wasm'));
});
