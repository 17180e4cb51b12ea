// The data plane: every rank listens on an ephemeral port of its bindAddress and dials every peer, so each ordered
// pair has its own authenticated TCP connection. Data flows from the accepting side to the dialing side, where it
// is read straight into place (connection.ts); the reverse direction of each socket carries only heartbeats and
// failure notices, so those never queue behind megabytes of data.
import * as net from 'node:net';
import { HandshakeFailure, acceptorHandshake, dialerHandshake } from './auth';
import { Connection } from './connection';
import { CollectiveError, describeRanks, errnoOf, seconds, who } from './errors';
import { FrameType } from './frame';
import type { GroupOptions } from './options';
import type { PeerTable } from './rendezvous';
import { Stopper } from './stopper';

/** This rank's data listener; connections that arrive before the peer table (a faster peer) wait in line. */
export class DataListener {
  private pending: net.Socket[] = [];
  private handler: ((s: net.Socket) => void) | undefined;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static open(bindAddress: string): Promise<DataListener> {
    return new Promise((resolve, reject) => {
      let listener: DataListener | undefined;
      const server = net.createServer((s) => {
        if (!listener) return s.destroy();
        if (listener.handler) listener.handler(s);
        else listener.pending.push(s);
      });
      server.once('error', (e) => reject(new CollectiveError('rendezvous', `could not listen for data connections on ${bindAddress}: ${errnoOf(e) ?? e.message}`)));
      server.listen({ host: bindAddress, port: 0 }, () => {
        const a = server.address();
        listener = new DataListener(server, typeof a === 'object' && a ? a.port : 0);
        resolve(listener);
      });
    });
  }

  onConnection(h: (s: net.Socket) => void): void {
    this.handler = h;
    for (const s of this.pending.splice(0)) h(s);
  }

  close(): void {
    this.handler = (s) => s.destroy();
    for (const s of this.pending.splice(0)) s.destroy();
    this.server.close();
  }
}

export interface Mesh {
  /** ins[p]: the connection we dialed to p; p sends us data on it. */
  ins: Connection[];
  /** outs[p]: the connection p dialed to us; we send p data on it. */
  outs: Connection[];
}

function purpose(session: string, from: number, to: number): string {
  return `data/${session}/${from}->${to}`;
}

/** Connects and authenticates the full mesh; rejects naming the peers whose connections did not form in time. */
export function formMesh(o: GroupOptions, table: PeerTable, listener: DataListener): Promise<Mesh> {
  const n = o.worldSize;
  const me = o.rank;
  const ins: (Connection | undefined)[] = new Array<Connection | undefined>(n).fill(undefined);
  const outs: (Connection | undefined)[] = new Array<Connection | undefined>(n).fill(undefined);
  const all = new Set<Connection>();
  const stopper = new Stopper<CollectiveError>();
  const start = performance.now();

  return new Promise<Mesh>((resolve, reject) => {
    let done = false;
    const finish = (err: CollectiveError | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unfollow();
      listener.close();
      if (err) {
        stopper.stop(err);
        for (const c of all) c.destroy();
        reject(err);
        return;
      }
      resolve({ ins: ins as Connection[], outs: outs as Connection[] });
    };
    const check = (): void => {
      for (let p = 0; p < n; p++) if (p !== me && (!ins[p] || !outs[p])) return;
      finish(undefined);
    };
    const lost = (p: number, err: Error | undefined): void => {
      const why = err ? ` (${errnoOf(err) ?? err.message})` : '';
      finish(new CollectiveError('peer-lost', `the data connection with ${who(p, o.hostOf)} closed before the group formed${why}`, { rank: p, host: o.hostOf[p] }));
    };

    // Accepting: peers that dial us; we will send them data.
    const pattern = /^data\/([0-9a-f]+)\/(\d+)->(\d+)$/;
    listener.onConnection((socket) => {
      if (done) return void socket.destroy();
      const conn = Connection.accept(socket);
      all.add(conn);
      let from = -1;
      conn.onClose = (err) => {
        all.delete(conn);
        if (from >= 0 && outs[from] === conn && !done) lost(from, err);
      };
      const checkPurpose = (p: string): string | undefined => {
        const m = pattern.exec(p);
        if (!m || m[1] !== table.session || Number(m[3]) !== me) return 'this data connection belongs to another group or rank';
        const r = Number(m[2]);
        if (!(r >= 0 && r < n) || r === me) return `rank ${r} is not a peer of rank ${me}`;
        if (outs[r]) return `${who(r, o.hostOf)} is connected already`;
        from = r;
        return undefined;
      };
      acceptorHandshake(conn, o.token, checkPurpose).then(
        () => {
          if (done) return;
          if (outs[from]) return void conn.destroy();
          conn.peer = from;
          outs[from] = conn;
          conn.sendJson(FrameType.Accept, {});
          check();
        },
        () => {
          // A stranger (wrong token, another group): not ours to wait for.
          from = -1;
          all.delete(conn);
          conn.destroy();
        },
      );
    });

    // Dialing: every peer, which will send us data.
    for (let p = 0; p < n; p++) {
      if (p === me) continue;
      void (async () => {
        let backoff = 20;
        while (!done) {
          let conn: Connection;
          try {
            conn = await Connection.dial(table.peers[p].address, table.peers[p].port, Math.max(1, start + o.timeoutMs - performance.now()));
          } catch {
            await stopper.sleep(backoff);
            backoff = Math.min(500, backoff * 2);
            continue;
          }
          if (done) return void conn.destroy();
          all.add(conn);
          conn.peer = p;
          conn.onClose = (err) => {
            all.delete(conn);
            if (ins[p] === conn && !done) lost(p, err);
          };
          try {
            await dialerHandshake(conn, o.token, purpose(table.session, me, p), { rank: me });
          } catch (e) {
            conn.destroy();
            if (done) return;
            const why = e instanceof Error ? e.message : String(e);
            return finish(new CollectiveError(e instanceof HandshakeFailure ? e.kind : 'protocol', `the data connection to ${who(p, o.hostOf)} failed: ${why}`, { rank: p, host: o.hostOf[p] }));
          }
          if (done) return void conn.destroy();
          ins[p] = conn;
          return check();
        }
      })();
    }

    const timer = setTimeout(() => {
      const missing: number[] = [];
      for (let p = 0; p < n; p++) if (p !== me && (!ins[p] || !outs[p])) missing.push(p);
      finish(new CollectiveError('timeout', `the data connections of rank ${me} with ${describeRanks(missing, o.hostOf)} did not form within ${seconds(o.timeoutMs)}`, missing.length === 1 ? { rank: missing[0], host: o.hostOf[missing[0]] } : undefined));
    }, o.timeoutMs);
    const unfollow = stopper.follow(o.signal, () => new CollectiveError('aborted', `rank ${me} was aborted while joining the group`));
    stopper.onStop(() => finish(stopper.reason));
    if (n === 1) check();
  });
}
