// Timings cached on disk per runtime and device (the latency model's timed subnets): read back only when written by
// the same cache format, runtime, version and device (CPU, threads, batch) and key, written atomically.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { BackendInfo } from '../protocol/events';

export interface TimingCacheFile {
  version: number;
  backend: BackendInfo;
  /** What was timed, beyond the runtime: the supernet's shape and input. */
  key?: string;
  /** Milliseconds by what was timed. */
  entries: Record<string, number>;
}

/** The cached timings that fit `expect`; none when the file is missing, unreadable or from elsewhere. */
export function readTimingCache(file: string, expect: Omit<TimingCacheFile, 'entries'>, accept: (ms: number) => boolean): Record<string, number> {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as TimingCacheFile;
    const b = data.backend;
    if (data.version !== expect.version || data.key !== expect.key || b.backend !== expect.backend.backend || b.version !== expect.backend.version || b.device !== expect.backend.device) return {};
    const entries: Record<string, number> = {};
    for (const [k, v] of Object.entries(data.entries ?? {})) if (typeof v === 'number' && Number.isFinite(v) && accept(v)) entries[k] = v;
    return entries;
  } catch {
    return {}; // missing or unreadable: time again (a cache is never worth failing a run for)
  }
}

/** Writes the cache through a temporary file, so a reader never sees half of it. */
export function writeTimingCache(file: string, cache: TimingCacheFile): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(cache, null, 1));
  renameSync(tmp, file);
}
