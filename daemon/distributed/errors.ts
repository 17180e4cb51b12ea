// The one error type of the group, and the wording that names ranks and hosts in it.

export type CollectiveErrorKind = 'timeout' | 'peer-lost' | 'auth' | 'rendezvous' | 'aborted' | 'protocol';

export class CollectiveError extends Error {
  override readonly name = 'CollectiveError';
  readonly kind: CollectiveErrorKind;
  /** The rank the failure is blamed on (the dead, stalled or refused peer), when there is one. */
  readonly peerRank?: number;
  readonly peerHost?: string;

  constructor(kind: CollectiveErrorKind, message: string, peer?: { rank: number; host?: string }) {
    super(message);
    this.kind = kind;
    if (peer) {
      this.peerRank = peer.rank;
      this.peerHost = peer.host;
    }
  }
}

export function isCollectiveErrorKind(k: unknown): k is CollectiveErrorKind {
  return k === 'timeout' || k === 'peer-lost' || k === 'auth' || k === 'rendezvous' || k === 'aborted' || k === 'protocol';
}

/** "rank 3 on host 'b'" */
export function who(rank: number, hostOf: readonly string[]): string {
  const host = hostOf[rank];
  return host === undefined ? `rank ${rank}` : `rank ${rank} on host '${host}'`;
}

/** "ranks 2, 3 (host 'b') and rank 5 (host 'c')": ranks grouped by host, in rank order. */
export function describeRanks(ranks: readonly number[], hostOf: readonly string[]): string {
  const byHost = new Map<string, number[]>();
  for (const r of [...ranks].sort((a, b) => a - b)) {
    const h = hostOf[r] ?? '?';
    const list = byHost.get(h);
    if (list) list.push(r);
    else byHost.set(h, [r]);
  }
  const groups = [...byHost].map(([h, rs]) => `${rs.length === 1 ? 'rank' : 'ranks'} ${rs.join(', ')} (host '${h}')`);
  return groups.length <= 1 ? (groups[0] ?? 'no ranks') : `${groups.slice(0, -1).join(', ')} and ${groups[groups.length - 1]}`;
}

/** 10000 → "10 s", 2500 → "2.5 s", 300 → "0.3 s". */
export function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(s < 1 ? 2 : 1)} s`;
}

/** The system error code of a socket error (ECONNRESET …), for messages. */
export function errnoOf(e: unknown): string | undefined {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') return (e as { code: string }).code;
  return undefined;
}
