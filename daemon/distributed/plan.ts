// What a collective's phases need of the op that runs them: post a receive, send a frame. The op (group.ts) counts
// both, so that it resolves only when every receive has landed and every send has left this process — after that
// the caller may reuse its buffers.

export interface Transport {
  /** Expects a frame from `peer`, received into `parts`; `onDone` runs in order once it is there. */
  expect(peer: number, type: number, stage: number, index: number, parts: Uint8Array[], onDone: () => void): void;
  /** Sends a frame to `peer` from `parts`, without copying: `parts` must not change until the op resolves. */
  transmit(peer: number, type: number, stage: number, index: number, parts: Uint8Array[]): void;
}

export function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
