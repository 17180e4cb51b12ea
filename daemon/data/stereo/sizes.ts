// Stereo input sizes: every size the network sees is a multiple of the supernet's total stride, checked with a
// DataError that says which size to use instead.
import { DataError } from '../errors';

/** The stereo supernet's total stride: its coarsest feature map is 1/64 of the input. */
export const STEREO_SIZE_MULTIPLE = 64;

/** The largest multiple of STEREO_SIZE_MULTIPLE not above `n` (0 when n < 64). */
export function largestMultiple(n: number): number {
  return Math.floor(n / STEREO_SIZE_MULTIPLE) * STEREO_SIZE_MULTIPLE;
}

/** Throws unless `value` is a positive multiple of 64; `setting` names it for the person, e.g. "data.width". */
export function checkMultiple(value: number, setting: string): void {
  if (value > 0 && value % STEREO_SIZE_MULTIPLE === 0) return;
  const lower = largestMultiple(value);
  const upper = lower + STEREO_SIZE_MULTIPLE;
  const use = lower > 0 ? `${lower} or ${upper}` : `${upper}`;
  throw new DataError(`${setting} ${value} is not a multiple of ${STEREO_SIZE_MULTIPLE} (the stereo supernet's total stride): use ${use}`, 'data.config');
}
