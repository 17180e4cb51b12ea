#!/usr/bin/env node
// Builds MANTA's native training kernels (the *.c files here) into `manta-kernels.wasm` with Debian's clang-14 and
// wasm-ld-14, and writes `wasm-bytes.generated.ts` (the same bytes, base64) so that bundles need no extra file.
//
// The module runs on tfjs's own wasm heap (it imports tfjs's WebAssembly.Memory), so it must not own any memory:
// this script fails unless the linked module has no data segment, imports nothing but `env.memory`, and, once its
// only global (the linker's unused __stack_pointer) and the custom sections are stripped, still validates — which
// proves that no code touches a linear-memory stack. Stripping also drops paths and the compiler's version string,
// so the output depends only on the sources and the compiler's code generation.
//
// Usage: node daemon/engine/kernels/native/build.mjs           rebuild both files
//        node daemon/engine/kernels/native/build.mjs --check   rebuild in memory, exit 1 if the committed files differ
// Env:   CLANG (default clang-14), WASM_LD (default: the wasm-ld that clang finds)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const WASM_FILE = join(here, 'manta-kernels.wasm');
export const TS_FILE = join(here, 'wasm-bytes.generated.ts');

export const CFLAGS = [
  '--target=wasm32',
  '-O3',
  '-msimd128',
  '-ffreestanding',
  '-fno-builtin', // no memset/memcpy calls: there is no libc to link
  '-nostdlib',
  '-Wall',
  '-Werror',
];
// clang-14 finds its own wasm-ld (Debian: /usr/lib/llvm-14/bin/wasm-ld, from lld-14); WASM_LD overrides it.
export const LDFLAGS = ['-Wl,--no-entry', '-Wl,--import-memory', '-Wl,--strip-debug', ...(process.env.WASM_LD ? [`--ld-path=${process.env.WASM_LD}`] : [])];

/** Whether the compiler this script uses is installed. */
export function haveCompiler() {
  try {
    execFileSync(process.env.CLANG ?? 'clang-14', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function compile() {
  const sources = readdirSync(here).filter((f) => f.endsWith('.c')).sort();
  const out = mkdtempSync(join(tmpdir(), 'manta-kernels-'));
  try {
    const file = join(out, 'kernels.wasm');
    // Relative source names and a fixed working directory keep the command, and so the output, the same everywhere.
    execFileSync(process.env.CLANG ?? 'clang-14', [...CFLAGS, ...LDFLAGS, '-o', file, ...sources], { cwd: here, stdio: 'inherit' });
    return readFileSync(file);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function readLeb(bytes, pos) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, pos];
  }
}

function readName(bytes, pos) {
  const [len, p] = readLeb(bytes, pos);
  return [Buffer.from(bytes.subarray(p, p + len)).toString('utf8'), p + len];
}

const SECTION = { custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12 };

/** Splits a module into its sections: [{ id, bytes (the whole section, header included), body }]. */
export function sections(wasm) {
  if (wasm.readUInt32LE(0) !== 0x6d736100 || wasm.readUInt32LE(4) !== 1) throw new Error('not a wasm module (version 1)');
  const list = [];
  let pos = 8;
  while (pos < wasm.length) {
    const start = pos;
    const id = wasm[pos++];
    const [size, p] = readLeb(wasm, pos);
    list.push({ id, bytes: wasm.subarray(start, p + size), body: wasm.subarray(p, p + size) });
    pos = p + size;
  }
  return list;
}

/** The module's imports as "module.name" strings. */
function importNames(body) {
  let [count, pos] = readLeb(body, 0);
  const names = [];
  while (count-- > 0) {
    let mod, name;
    [mod, pos] = readName(body, pos);
    [name, pos] = readName(body, pos);
    const kind = body[pos++];
    names.push(`${mod}.${name}:${kind}`);
    if (kind === 0) [, pos] = readLeb(body, pos); // function: type index
    else if (kind === 2) {
      const flags = body[pos++]; // memory limits
      [, pos] = readLeb(body, pos);
      if (flags & 1) [, pos] = readLeb(body, pos);
    } else throw new Error(`unexpected import kind ${kind} (${mod}.${name})`);
  }
  return names;
}

/** Strips what the module must not need and checks the rest; returns the bytes to ship. */
export function finalize(linked) {
  const keep = [];
  for (const s of sections(linked)) {
    if (s.id === SECTION.data || s.id === SECTION.dataCount) throw new Error('the kernels module has a data segment: no static data is allowed (it would overwrite the tfjs heap)');
    if (s.id === SECTION.memory) throw new Error('the kernels module defines its own memory: it must import tfjs\'s');
    if (s.id === SECTION.start || s.id === SECTION.element) throw new Error(`the kernels module has a section ${s.id} it must not need`);
    if (s.id === SECTION.import) {
      const names = importNames(s.body);
      if (names.length !== 1 || names[0] !== 'env.memory:2') throw new Error(`the kernels module must import only env.memory, found ${names.join(', ')}`);
    }
    if (s.id === SECTION.custom || s.id === SECTION.global || s.id === SECTION.table) continue;
    keep.push(s.bytes);
  }
  const out = Buffer.concat([linked.subarray(0, 8), ...keep]);
  if (!WebAssembly.validate(out)) throw new Error('the kernels module uses a global (a linear-memory stack?) or a table: it must use neither');
  return out;
}

export function generatedTs(wasm) {
  const b64 = wasm.toString('base64');
  const lines = b64.match(/.{1,116}/g) ?? [];
  return (
    '// Generated by daemon/engine/kernels/native/build.mjs from the *.c files beside it: do not edit.\n' +
    '// The bytes of manta-kernels.wasm, base64, so that every bundle carries the kernels without a file to copy.\n' +
    `export const MANTA_KERNELS_WASM_BASE64 =\n${lines.map((l) => `  '${l}'`).join(' +\n')};\n`
  );
}

/** Builds and returns { wasm, ts } without writing anything. */
export function build() {
  const wasm = finalize(compile());
  return { wasm, ts: generatedTs(wasm) };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  if (!haveCompiler()) {
    console.error('clang-14 not found: install Debian\'s clang-14 and lld-14 (apt-get install clang-14 lld-14), or set CLANG and WASM_LD');
    process.exit(2);
  }
  const { wasm, ts } = build();
  if (process.argv.includes('--check')) {
    const same = existsSync(WASM_FILE) && readFileSync(WASM_FILE).equals(wasm) && existsSync(TS_FILE) && readFileSync(TS_FILE, 'utf8') === ts;
    if (!same) {
      console.error('manta-kernels.wasm or wasm-bytes.generated.ts is out of date: run node daemon/engine/kernels/native/build.mjs');
      process.exit(1);
    }
    console.log(`manta-kernels.wasm is up to date (${wasm.length} bytes)`);
  } else {
    writeFileSync(WASM_FILE, wasm);
    writeFileSync(TS_FILE, ts);
    console.log(`wrote ${WASM_FILE} (${wasm.length} bytes) and ${TS_FILE}`);
  }
}
