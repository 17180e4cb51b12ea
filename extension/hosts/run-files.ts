// A run's files as the extension gets them: through the protocol's manta/readRunFile, chunk by chunk, never from
// disk — the daemon may be on another host behind one forwarded socket. Plain Node: no `vscode` here.
import { GetRunResultsRequest, ReadRunFileRequest, READ_RUN_FILE_DEFAULT_LENGTH, type MantaErrorData, type ParetoPoint, type ResultsFile } from '../../daemon/protocol';
import type { RequestType } from 'vscode-jsonrpc';

/** Sends one request to a daemon (Host.request, or a test's connection). */
export type Requester = <P, R>(type: RequestType<P, R, MantaErrorData>, params: P) => Promise<R>;

/** The whole of a run file, reassembled from chunks; fails when the file changed while it was being read. */
export async function downloadRunFile(request: Requester, runId: string, file: string, chunkBytes = READ_RUN_FILE_DEFAULT_LENGTH): Promise<Buffer> {
  const parts: Buffer[] = [];
  let offset = 0;
  let first: { size: number; modifiedAt: number } | undefined;
  for (;;) {
    const chunk = await request(ReadRunFileRequest, { runId, file, offset, length: chunkBytes });
    if (first && (chunk.size !== first.size || chunk.modifiedAt !== first.modifiedAt)) {
      throw new Error(`run ${runId}'s ${file} changed while it was being read; try again`);
    }
    first ??= { size: chunk.size, modifiedAt: chunk.modifiedAt };
    const data = Buffer.from(chunk.data, 'base64');
    parts.push(data);
    offset += data.length;
    if (chunk.eof) break;
    if (data.length === 0) throw new Error(`run ${runId}'s ${file} ended early (${offset} of ${chunk.size} bytes)`);
  }
  return Buffer.concat(parts);
}

/**
 * The run's Pareto front, from its results (manta/getRunResults): `index` is what manta/exportSubnet takes; with the
 * task whose headline metric the points' accuracy fields hold (absent from results written before tasks had one).
 */
export async function runFront(request: Requester, runId: string): Promise<{ front: ParetoPoint[]; task?: ResultsFile['task'] }> {
  const { results } = await request(GetRunResultsRequest, { runId });
  return { front: results.front, ...(results.task ? { task: results.task } : {}) };
}
