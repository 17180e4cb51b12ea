// The native kernels module: reproducible from its C sources (rebuilt and compared byte for byte where clang-14 is
// installed, as in CI), and safe to run on tfjs's heap — no data segment, no globals (so no linear-memory stack),
// nothing imported but the memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANTA_KERNELS_WASM_BASE64 } from '../../daemon/engine/kernels/native/wasm-bytes.generated';

const nativeDir = join(__dirname, '../../daemon/engine/kernels/native');
const committed = readFileSync(join(nativeDir, 'manta-kernels.wasm'));

type BuildModule = {
  build(): { wasm: Buffer; ts: string };
  finalize(linked: Buffer): Buffer;
  sections(wasm: Buffer): { id: number }[];
  haveCompiler(): boolean;
  CFLAGS: string[];
  LDFLAGS: string[];
};
const loadBuild = () => import(join(nativeDir, 'build.mjs')) as Promise<BuildModule>;

test('the embedded bytes are the committed manta-kernels.wasm', () => {
  assert.ok(Buffer.from(MANTA_KERNELS_WASM_BASE64, 'base64').equals(committed));
});

test('the committed module owns no memory: only env.memory imported, no data, no globals, no table', async () => {
  const { sections, finalize } = await loadBuild();
  const ids = sections(committed).map((s) => s.id);
  for (const forbidden of [0, 4, 5, 6, 11, 12]) assert.ok(!ids.includes(forbidden), `section ${forbidden} present`);
  assert.ok(finalize(committed).equals(committed), 'finalize must leave the shipped module unchanged');
  const mod = new WebAssembly.Module(committed);
  assert.deepEqual(WebAssembly.Module.imports(mod), [{ module: 'env', name: 'memory', kind: 'memory' }]);
});

test('rebuilding from the C sources gives the committed bytes', async (t) => {
  const build = await loadBuild();
  if (!build.haveCompiler()) {
    t.skip('clang-14 not installed (apt-get install clang-14 lld-14): cannot rebuild the native kernels');
    return;
  }
  const { wasm, ts } = build.build();
  assert.ok(wasm.equals(committed), 'manta-kernels.wasm is stale: run node daemon/engine/kernels/native/build.mjs');
  assert.equal(ts, readFileSync(join(nativeDir, 'wasm-bytes.generated.ts'), 'utf8'));
});

test('the build refuses C that would need static data or a stack in memory', async (t) => {
  const build = await loadBuild();
  if (!build.haveCompiler()) {
    t.skip('clang-14 not installed (apt-get install clang-14 lld-14)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'manta-native-test-'));
  try {
    const compile = (source: string) => {
      writeFileSync(join(dir, 'k.c'), source);
      execFileSync(process.env.CLANG ?? 'clang-14', [...build.CFLAGS, ...build.LDFLAGS, '-o', 'k.wasm', 'k.c'], { cwd: dir });
      return readFileSync(join(dir, 'k.wasm'));
    };
    const table = compile('static const float t[4] = {1, 2, 3, 4};\n__attribute__((export_name("f"))) float f(int i) { return t[i & 3]; }\n');
    assert.throws(() => build.finalize(table), /data segment/);
    const stack = compile('void g(float* p);\n__attribute__((export_name("f"))) float f(int n) { float a[64]; for (int i = 0; i < 64; i++) a[i] = (float)(i * n); g(a); return a[n & 63]; }\nvoid g(float* p) { __asm__ volatile("" : : "r"(p) : "memory"); }\n');
    assert.throws(() => build.finalize(stack), /global|stack/);
    const clean = compile('__attribute__((export_name("f"))) void f(float* y, int n) { for (int i = 0; i < n; i++) y[i] *= 2.0f; }\n');
    assert.doesNotThrow(() => build.finalize(clean));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
