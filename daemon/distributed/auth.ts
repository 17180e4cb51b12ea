// Mutual challenge–response on every connection (rendezvous and data plane alike), so that only holders of the job
// token join and no rank talks to an impostor. Both sides send a fresh random nonce; each proves it holds the
// token with HMAC-SHA256 over both nonces, bound to the connection's purpose (rendezvous, or which two ranks of
// which group session) and, for the dialer, to what it announces. The token itself never crosses the wire, a
// recorded exchange cannot be replayed (the other side's nonce is fresh), and the role prefix keeps one side's
// proof from being reflected as the other's. This authenticates; it does not encrypt: the data plane is plain TCP,
// as with Gloo and NCCL, for trusted networks (or an SSH tunnel).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConnectionClosed, type Connection } from './connection';
import { isCollectiveErrorKind, type CollectiveErrorKind } from './errors';
import { FrameType } from './frame';

const NONCE_BYTES = 32;

/** A failed handshake, without the context of who was dialled; the caller words the CollectiveError. */
export class HandshakeFailure extends Error {
  constructor(
    readonly kind: CollectiveErrorKind,
    message: string,
  ) {
    super(message);
  }
}

function mac(token: string, role: 'acceptor' | 'dialer', purpose: string, first: Buffer, second: Buffer, body: string): Buffer {
  const h = createHmac('sha256', Buffer.from(token, 'utf8'));
  h.update(`manta-collectives/1 ${role}\n${purpose}\n`);
  h.update(first);
  h.update(second);
  h.update(body, 'utf8');
  return h.digest();
}

function sameMac(hex: unknown, expected: Buffer): boolean {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) return false;
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
}

function parse(payload: Buffer): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HandshakeFailure('protocol', 'the peer sent a malformed handshake message');
}

function nonceOf(v: unknown): Buffer {
  if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) throw new HandshakeFailure('protocol', 'the peer sent a malformed nonce');
  return Buffer.from(v, 'hex');
}

/** A Refuse frame's payload as the error it stands for. */
export function refusal(payload: Buffer): HandshakeFailure {
  const r = parse(payload);
  const kind = isCollectiveErrorKind(r.kind) ? r.kind : 'rendezvous';
  return new HandshakeFailure(kind, typeof r.message === 'string' ? r.message : 'refused');
}

async function next(conn: Connection): Promise<{ type: number; payload: Buffer }> {
  try {
    return await conn.nextControl();
  } catch (e) {
    if (e instanceof ConnectionClosed) throw new HandshakeFailure('peer-lost', `the connection closed during the handshake (${e.message})`);
    throw e;
  }
}

/**
 * The dialing side: sends its nonce, checks the acceptor's proof, proves itself together with `body` (its
 * announcement), and returns the Accept frame's payload. Throws HandshakeFailure (kind 'auth' on a wrong token).
 */
export async function dialerHandshake(conn: Connection, token: string, purpose: string, body: unknown): Promise<Record<string, unknown>> {
  const nonceD = randomBytes(NONCE_BYTES);
  conn.sendJson(FrameType.Hello, { v: 1, purpose, nonce: nonceD.toString('hex') });
  const c = await next(conn);
  if (c.type === FrameType.Refuse) throw refusal(c.payload);
  if (c.type !== FrameType.Challenge) throw new HandshakeFailure('protocol', `unexpected frame type ${c.type} in the handshake`);
  const challenge = parse(c.payload);
  const nonceA = nonceOf(challenge.nonce);
  if (!sameMac(challenge.mac, mac(token, 'acceptor', purpose, nonceD, nonceA, ''))) {
    conn.sendJson(FrameType.Refuse, { kind: 'auth', message: 'authentication failed: the two sides hold different job tokens' });
    throw new HandshakeFailure('auth', 'authentication failed: the two sides hold different job tokens (or the other side is not a MANTA rank)');
  }
  // The acceptor is genuine: what it sends from now on (data may follow its Accept at once) is taken.
  conn.trusted = true;
  const bodyText = JSON.stringify(body);
  conn.sendJson(FrameType.Proof, { mac: mac(token, 'dialer', purpose, nonceA, nonceD, bodyText).toString('hex'), body: bodyText });
  const r = await next(conn);
  if (r.type === FrameType.Refuse) throw refusal(r.payload);
  if (r.type !== FrameType.Accept) throw new HandshakeFailure('protocol', `unexpected frame type ${r.type} in the handshake`);
  return parse(r.payload);
}

/**
 * The accepting side: takes the dialer's hello (refused at once when `checkPurpose` names a problem), proves itself,
 * checks the dialer's proof and returns what the dialer announced. The caller answers Accept or Refuse.
 */
export async function acceptorHandshake(conn: Connection, token: string, checkPurpose: (purpose: string) => string | undefined): Promise<{ purpose: string; body: Record<string, unknown> }> {
  const h = await next(conn);
  if (h.type !== FrameType.Hello) throw new HandshakeFailure('protocol', `unexpected frame type ${h.type} instead of a hello`);
  const hello = parse(h.payload);
  const purpose = typeof hello.purpose === 'string' ? hello.purpose : '';
  const problem = checkPurpose(purpose);
  if (problem) {
    conn.sendJson(FrameType.Refuse, { kind: 'rendezvous', message: problem });
    throw new HandshakeFailure('rendezvous', problem);
  }
  const nonceD = nonceOf(hello.nonce);
  const nonceA = randomBytes(NONCE_BYTES);
  conn.sendJson(FrameType.Challenge, { nonce: nonceA.toString('hex'), mac: mac(token, 'acceptor', purpose, nonceD, nonceA, '').toString('hex') });
  const p = await next(conn);
  if (p.type === FrameType.Refuse) throw refusal(p.payload);
  if (p.type !== FrameType.Proof) throw new HandshakeFailure('protocol', `unexpected frame type ${p.type} instead of a proof`);
  const proof = parse(p.payload);
  const bodyText = typeof proof.body === 'string' ? proof.body : '';
  if (!sameMac(proof.mac, mac(token, 'dialer', purpose, nonceA, nonceD, bodyText))) {
    conn.sendJson(FrameType.Refuse, { kind: 'auth', message: 'authentication failed: the two sides hold different job tokens' });
    throw new HandshakeFailure('auth', 'authentication failed: the two sides hold different job tokens');
  }
  conn.trusted = true;
  let body: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(bodyText);
    body = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    body = {};
  }
  return { purpose, body };
}
