// The search-space costs the CodeLens and hovers show, asked of the daemon through the client and cached per config
// text, so that the editor never waits on a daemon: a lens waits a moment for a fresh answer, then shows "computing"
// and is refreshed when the answer lands; an answer that never comes turns into a reason after a timeout.
import { createHash } from 'node:crypto';
import type { DescribeSpaceParams } from '../../daemon/protocol/methods';
import type { SpaceCostsAnswer } from './lsp-ext';

/** An answer, or still waiting for one (the lens is refreshed when it lands). */
export type SpaceCosts = SpaceCostsAnswer | { kind: 'computing' };

export interface SpaceCostsOptions {
  /** How long a lens or hover waits for a fresh answer before showing "computing". */
  waitMs: number;
  /** When an unanswered request counts as failed. */
  timeoutMs: number;
  /** Answers kept (least recently used dropped). */
  capacity: number;
}

interface Entry {
  answer?: SpaceCostsAnswer;
  pending: Promise<SpaceCostsAnswer>;
  /** Someone stopped waiting: tell onLateAnswer when it lands (once). */
  awaitedLate?: boolean;
}

export const DEFAULT_SPACE_COSTS_OPTIONS: SpaceCostsOptions = { waitMs: 1500, timeoutMs: 15_000, capacity: 64 };

/** The cache key of a config: its text and the folder its relative paths resolve against. */
export function spaceCostsKey(text: string, configDir: string | undefined): string {
  return createHash('sha256').update(`${configDir ?? ''}\0${text}`).digest('hex');
}

export class SpaceCostsCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ask: (params: DescribeSpaceParams) => Promise<SpaceCostsAnswer>,
    /** An answer arrived after a caller stopped waiting for it. */
    private readonly onLateAnswer: () => void,
    private readonly options: SpaceCostsOptions = DEFAULT_SPACE_COSTS_OPTIONS,
  ) {}

  /** The costs for `key`, asking with `params` when nothing is cached; waits at most `waitMs`. */
  async get(key: string, params: () => DescribeSpaceParams): Promise<SpaceCosts> {
    let entry = this.entries.get(key);
    if (entry) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, entry);
      if (entry.answer) return entry.answer;
    } else {
      entry = this.start(key, params());
    }
    let waited: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => (waited = setTimeout(() => resolve(undefined), this.options.waitMs)));
    const answer = await Promise.race([entry.pending, late]);
    clearTimeout(waited);
    if (answer) return answer;
    const e = entry;
    if (!e.awaitedLate) {
      e.awaitedLate = true;
      void e.pending.then(() => {
        if (this.entries.get(key) === e) this.onLateAnswer();
      });
    }
    return { kind: 'computing' };
  }

  /** Forgets every answer (the daemon connected or went away); answers still on their way are dropped. */
  clear(): void {
    this.entries.clear();
  }

  private start(key: string, params: DescribeSpaceParams): Entry {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<SpaceCostsAnswer>((resolve) => {
      const ms = this.options.timeoutMs;
      const reason = `the MANTA daemon did not answer within ${ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`}`;
      timer = setTimeout(() => resolve({ kind: 'unavailable', reason }), this.options.timeoutMs);
    });
    const asked = this.ask(params).catch((e: unknown): SpaceCostsAnswer => ({ kind: 'unavailable', reason: `the editor could not ask the MANTA daemon (${(e as Error)?.message ?? String(e)})` }));
    const entry: Entry = {
      pending: Promise.race([asked, timeout]).then((answer) => {
        clearTimeout(timer);
        entry.answer = answer;
        return answer;
      }),
    };
    this.entries.set(key, entry);
    while (this.entries.size > this.options.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return entry;
  }
}
