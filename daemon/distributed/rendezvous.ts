// The rendezvous: rank 0 listens on the coordinator port; every other rank dials it (retrying: the coordinator may
// start later), authenticates, and announces its rank, node and data-plane address. When all have arrived, rank 0
// sends everyone the peer table (and a fresh session id that binds the data connections to this group). A deadline
// names what is missing: on rank 0 the ranks that never came, elsewhere the coordinator that never answered.
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { HandshakeFailure, acceptorHandshake, dialerHandshake, refusal } from './auth';
import { Connection, ConnectionClosed } from './connection';
import { CollectiveError, describeRanks, errnoOf, isCollectiveErrorKind, seconds, who } from './errors';
import { FrameType } from './frame';
import { isWildcard, layoutDigest, type GroupOptions } from './options';
import { Stopper } from './stopper';

export interface PeerAddress {
  address: string;
  port: number;
}

/** Where every rank's data listener is, indexed by rank, and the session id of this group. */
export interface PeerTable {
  session: string;
  peers: PeerAddress[];
}

interface Announcement {
  rank: number;
  worldSize: number;
  nodeId: number;
  layout: string;
  dataPort: number;
  /** Absent when the rank binds a wildcard address: the coordinator then uses the address it sees. */
  dataAddress?: string;
}

function aborted(o: GroupOptions): CollectiveError {
  return new CollectiveError('aborted', `rank ${o.rank} was aborted while joining the group`);
}

function coordinatorName(o: GroupOptions): string {
  return `the coordinator at ${o.coordinator.host}:${o.coordinator.port} (host '${o.hostOf[0]}')`;
}

function int(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Rank 0: waits for every other rank, then hands out the table. */
export function coordinate(o: GroupOptions, dataPort: number): Promise<PeerTable> {
  const n = o.worldSize;
  const layout = layoutDigest(o);
  const session = randomBytes(16).toString('hex');
  const self: PeerAddress = { address: isWildcard(o.bindAddress) ? o.coordinator.host : o.bindAddress, port: dataPort };
  return new Promise((resolve, reject) => {
    const joined = new Map<number, { conn: Connection; peer: PeerAddress }>();
    const conns = new Set<Connection>();
    const authFailures = new Set<string>();
    let done = false;
    const server = net.createServer((socket) => void admit(socket));
    const stopper = new Stopper<CollectiveError>();

    const finish = (err: CollectiveError | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unfollow();
      server.close();
      if (err) {
        // Tell the ranks that did come why the group will not form, then let go of them.
        for (const c of conns) {
          c.sendJson(FrameType.Refuse, { kind: err.kind, message: err.message, peerRank: err.peerRank });
          c.end();
          setTimeout(() => c.destroy(), 500).unref();
        }
        reject(err);
        return;
      }
      const peers: PeerAddress[] = [self];
      for (let r = 1; r < n; r++) peers.push((joined.get(r) as { peer: PeerAddress }).peer);
      const table: PeerTable = { session, peers };
      for (const c of conns) {
        if ([...joined.values()].some((j) => j.conn === c)) c.sendJson(FrameType.Table, table);
        c.end();
        setTimeout(() => c.destroy(), 2000).unref();
      }
      resolve(table);
    };

    const refuse = (conn: Connection, kind: 'rendezvous', message: string): void => {
      conn.sendJson(FrameType.Refuse, { kind, message });
      conn.end();
      setTimeout(() => conn.destroy(), 500).unref();
    };

    const admit = async (socket: net.Socket): Promise<void> => {
      if (done) {
        socket.destroy();
        return;
      }
      const conn = Connection.accept(socket);
      const remote = socket.remoteAddress ?? '?';
      conns.add(conn);
      conn.onClose = () => {
        conns.delete(conn);
        // A rank that leaves before the table goes out must come again.
        for (const [r, j] of joined) if (j.conn === conn && !done) joined.delete(r);
      };
      let body: Record<string, unknown>;
      try {
        body = (await acceptorHandshake(conn, o.token, (p) => (p === 'rendezvous' ? undefined : `this is the rendezvous of a MANTA group, not a '${p}' endpoint`))).body;
      } catch (e) {
        if (e instanceof HandshakeFailure && e.kind === 'auth') authFailures.add(remote);
        conn.destroy();
        return;
      }
      if (done) return;
      const a = body as Partial<Announcement>;
      const rank = a.rank;
      if (!int(rank) || rank < 1 || rank >= n) return refuse(conn, 'rendezvous', `rank ${String(rank)} is not a rank of this group of ${n} (1…${n - 1} join rank 0)`);
      if (a.worldSize !== n) return refuse(conn, 'rendezvous', `rank ${rank} was started for a group of ${String(a.worldSize)}, the coordinator for ${n}`);
      if (a.layout !== layout || a.nodeId !== o.nodeOf[rank]) return refuse(conn, 'rendezvous', `rank ${rank} has a different layout of nodes and hosts (nodeOf/hostOf) than the coordinator`);
      if (!int(a.dataPort) || a.dataPort < 1 || a.dataPort > 65535) return refuse(conn, 'rendezvous', `rank ${rank} announced no valid data port`);
      const prior = joined.get(rank);
      if (prior) return refuse(conn, 'rendezvous', `${who(rank, o.hostOf)} has already joined (from ${prior.conn.socket.remoteAddress ?? '?'}): two processes were started as rank ${rank}`);
      const address = typeof a.dataAddress === 'string' && a.dataAddress.length > 0 ? a.dataAddress : remote.replace(/^::ffff:/, '');
      joined.set(rank, { conn, peer: { address, port: a.dataPort } });
      conn.sendJson(FrameType.Accept, {});
      if (joined.size === n - 1) finish(undefined);
    };

    server.on('error', (e) => finish(new CollectiveError('rendezvous', `rank 0 could not listen for the rendezvous on ${o.bindAddress}:${o.coordinator.port}: ${errnoOf(e) ?? e.message}`)));
    server.listen({ host: o.bindAddress, port: o.coordinator.port });
    const timer = setTimeout(() => {
      const missing: number[] = [];
      for (let r = 1; r < n; r++) if (!joined.has(r)) missing.push(r);
      const auth = authFailures.size > 0 ? ` (connections from ${[...authFailures].join(', ')} were refused: a different job token)` : '';
      finish(new CollectiveError('timeout', `rendezvous: ${describeRanks(missing, o.hostOf)} did not join within ${seconds(o.timeoutMs)}${auth}`, missing.length === 1 ? { rank: missing[0], host: o.hostOf[missing[0]] } : undefined));
    }, o.timeoutMs);
    const unfollow = stopper.follow(o.signal, () => aborted(o));
    stopper.onStop(() => finish(stopper.reason));
  });
}

function parseTable(payload: Buffer, n: number): PeerTable | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as { session?: unknown; peers?: unknown };
    if (typeof v.session !== 'string' || !Array.isArray(v.peers) || v.peers.length !== n) return undefined;
    const peers: PeerAddress[] = [];
    for (const p of v.peers as unknown[]) {
      const q = p as { address?: unknown; port?: unknown };
      if (typeof q.address !== 'string' || !int(q.port)) return undefined;
      peers.push({ address: q.address, port: q.port });
    }
    return { session: v.session, peers };
  } catch {
    return undefined;
  }
}

/** Ranks 1…n−1: dial the coordinator until it answers, announce, wait for the table. */
export async function rendezvous(o: GroupOptions, dataPort: number): Promise<PeerTable> {
  const start = performance.now();
  const stopper = new Stopper<CollectiveError>();
  let connected = false;
  let accepted = false;
  let lastError: string | undefined;
  const expire = (): void => {
    const waited = seconds(o.timeoutMs);
    stopper.stop(
      accepted
        ? new CollectiveError('timeout', `rendezvous: ${coordinatorName(o)} accepted rank ${o.rank} but the group did not form within ${waited} (it was still waiting for other ranks)`, { rank: 0, host: o.hostOf[0] })
        : new CollectiveError('timeout', `rendezvous: ${coordinatorName(o)} did not answer within ${waited}${connected ? ' (it took the connection but did not complete the handshake)' : lastError ? ` (last attempt: ${lastError})` : ''}`, { rank: 0, host: o.hostOf[0] }),
    );
  };
  let timer = setTimeout(expire, o.timeoutMs);
  const unfollow = stopper.follow(o.signal, () => aborted(o));
  const announcement: Announcement = { rank: o.rank, worldSize: o.worldSize, nodeId: o.nodeOf[o.rank], layout: layoutDigest(o), dataPort };
  if (!isWildcard(o.bindAddress)) announcement.dataAddress = o.bindAddress;
  let backoff = 50;
  try {
    while (!stopper.reason) {
      let conn: Connection;
      try {
        conn = await Connection.dial(o.coordinator.host, o.coordinator.port, Math.max(1, start + o.timeoutMs - performance.now()));
      } catch (e) {
        lastError = errnoOf(e) ?? (e instanceof Error ? e.message : String(e));
        await stopper.sleep(backoff);
        backoff = Math.min(1000, backoff * 2);
        continue;
      }
      if (stopper.reason) {
        conn.destroy();
        break;
      }
      connected = true;
      const unhook = stopper.onStop(() => conn.destroy());
      try {
        await dialerHandshake(conn, o.token, 'rendezvous', announcement);
        accepted = true;
        // Wait a little past our own deadline for the coordinator's verdict, which names the missing ranks.
        clearTimeout(timer);
        timer = setTimeout(expire, Math.max(0, start + o.timeoutMs - performance.now()) + Math.min(2000, Math.max(250, o.timeoutMs / 4)));
        const msg = await conn.nextControl();
        if (msg.type === FrameType.Table) {
          const table = parseTable(msg.payload, o.worldSize);
          if (!table) throw new CollectiveError('protocol', `rendezvous: ${coordinatorName(o)} sent a malformed peer table`, { rank: 0, host: o.hostOf[0] });
          return table;
        }
        if (msg.type === FrameType.Refuse) throw verdict(o, msg.payload);
        throw new CollectiveError('protocol', `rendezvous: ${coordinatorName(o)} sent frame type ${msg.type} instead of the peer table`, { rank: 0, host: o.hostOf[0] });
      } catch (e) {
        if (stopper.reason) break;
        if (e instanceof HandshakeFailure) {
          if (e.kind !== 'peer-lost') throw new CollectiveError(e.kind, `rendezvous of rank ${o.rank} with ${coordinatorName(o)}: ${e.message}`, { rank: 0, host: o.hostOf[0] });
        } else if (!(e instanceof ConnectionClosed)) throw e;
        // The coordinator dropped us before the table (restarting?): dial again while time is left.
        accepted = false;
        await stopper.sleep(backoff);
      } finally {
        unhook();
        conn.destroy();
      }
    }
    throw stopper.reason ?? aborted(o);
  } finally {
    clearTimeout(timer);
    unfollow();
  }
}

/** The coordinator's Refuse after accepting us: its own deadline (naming the missing ranks) or an abort. */
function verdict(o: GroupOptions, payload: Buffer): CollectiveError {
  const r = refusal(payload);
  let peerRank: number | undefined;
  try {
    const v = (JSON.parse(payload.toString('utf8')) as { peerRank?: unknown }).peerRank;
    if (int(v) && v >= 0 && v < o.worldSize) peerRank = v;
  } catch {
    // no peer named
  }
  const kind = isCollectiveErrorKind(r.kind) ? r.kind : 'rendezvous';
  return new CollectiveError(kind, `${r.message} (reported by the coordinator, ${who(0, o.hostOf)})`, peerRank === undefined ? { rank: 0, host: o.hostOf[0] } : { rank: peerRank, host: o.hostOf[peerRank] });
}
