// PFM: both byte orders, bottom-to-top rows, grey and colour, and bad files named with what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../../daemon/data/errors';
import { encodePfm, parsePfm, readPfm, writePfm, type PfmImage } from '../../daemon/data/stereo/pfm';

/** A PFM written by hand: the header text, then the given float rows in file order (bottom row first). */
function handMade(header: string, fileOrder: number[], littleEndian: boolean): Buffer {
  const body = Buffer.alloc(fileOrder.length * 4);
  fileOrder.forEach((v, i) => (littleEndian ? body.writeFloatLE(v, 4 * i) : body.writeFloatBE(v, 4 * i)));
  return Buffer.concat([Buffer.from(header, 'latin1'), body]);
}

function rejects(bytes: Uint8Array, reason: string, pattern: RegExp): void {
  assert.throws(
    () => parsePfm(bytes, 'disp0.pfm'),
    (e: unknown) => e instanceof DataError && e.reason === reason && e.file === 'disp0.pfm' && /disp0\.pfm/.test(e.message) && pattern.test(e.message),
  );
}

test('PFM reader undoes bottom-to-top row order, in both byte orders', () => {
  // 2 wide, 3 high; the file holds the bottom row (5, 6) first and the top row (1, 2) last.
  const fileOrder = [5, 6, 3, 4, 1, 2];
  for (const [header, le] of [
    ['Pf\n2 3\n-1.0\n', true],
    ['Pf\n2 3\n1.0\n', false],
  ] as const) {
    const img = parsePfm(handMade(header, fileOrder, le), 'x.pfm');
    assert.deepEqual([img.width, img.height, img.channels], [2, 3, 1]);
    assert.deepEqual(Array.from(img.data), [1, 2, 3, 4, 5, 6], `little endian: ${le}`);
  }
  // A colour file interleaves channels within a row; width and height on separate lines are tolerated too.
  const rgb = parsePfm(handMade('PF\n1\n2\n-1\n', [4, 5, 6, 1, 2, 3], true), 'c.pfm');
  assert.deepEqual([rgb.channels, Array.from(rgb.data)], [3, [1, 2, 3, 4, 5, 6]]);
});

test('PFM round trip keeps every float (NaN, ±∞ included) in both byte orders', () => {
  const values = Float32Array.from([0.5, -1.25, 1e-20, 3.4e38, NaN, Infinity, -Infinity, 42.0625, 7, 8, 9, 10]);
  const grey: PfmImage = { width: 4, height: 3, channels: 1, data: values };
  const colour: PfmImage = { width: 2, height: 2, channels: 3, data: values };
  for (const image of [grey, colour]) {
    for (const littleEndian of [true, false]) {
      const bytes = encodePfm(image, { littleEndian });
      const header = bytes.subarray(0, bytes.length - values.length * 4).toString('latin1');
      assert.equal(header, `${image.channels === 3 ? 'PF' : 'Pf'}\n${image.width} ${image.height}\n${littleEndian ? -1 : 1}\n`);
      // The encoder writes the bottom row first.
      const firstStored = littleEndian ? bytes.readFloatLE(header.length) : bytes.readFloatBE(header.length);
      assert.equal(firstStored, values[(image.height - 1) * image.width * image.channels]);
      assert.deepEqual(parsePfm(bytes, 'rt.pfm'), image);
    }
  }
});

test('PFM tolerates a CRLF after the scale', () => {
  const img = parsePfm(handMade('Pf\r\n2 1\r\n-1\r\n', [7, 8], true), 'crlf.pfm');
  assert.deepEqual(Array.from(img.data), [7, 8]);
});

test('bad PFM files are DataErrors naming the file and the fault', () => {
  const good = encodePfm({ width: 3, height: 2, channels: 1, data: new Float32Array(6) });
  rejects(good.subarray(0, good.length - 5), 'data.truncated', /truncated.*3×2×1.*24 bytes.*19 bytes/);
  rejects(good.subarray(0, 6), 'data.truncated', /truncated/);
  rejects(Buffer.from('P6\n3 2\n255\n'), 'data.bad-format', /starts with 'P6'/);
  rejects(handMade('Pf\nthree 2\n-1\n', [0, 0, 0, 0, 0, 0], true), 'data.bad-format', /width 'three'/);
  rejects(handMade('Pf\n3 0\n-1\n', [], true), 'data.bad-format', /height '0'/);
  rejects(handMade('Pf\n3 2\n0\n', [0, 0, 0, 0, 0, 0], true), 'data.bad-format', /scale '0'/);
  rejects(Buffer.concat([good, Buffer.alloc(8)]), 'data.bad-format', /8 bytes more/);
});

test('readPfm and writePfm go through files; a missing one is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'manta-pfm-'));
  try {
    const image: PfmImage = { width: 3, height: 2, channels: 1, data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    await writePfm(join(dir, 'a.pfm'), image, { littleEndian: false });
    assert.deepEqual(await readPfm(join(dir, 'a.pfm')), image);
    await assert.rejects(readPfm(join(dir, 'none.pfm')), (e: unknown) => e instanceof DataError && e.reason === 'data.missing-file' && /none\.pfm/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
