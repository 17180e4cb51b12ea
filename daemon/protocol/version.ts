// The protocol's version and the one rule for whether a client and a daemon can talk: same major version.
// Minor versions only add optional fields, methods and events, which both sides ignore when unknown.

/** MAJOR.MINOR of the protocol in daemon/protocol/. Bump MAJOR on any change an older peer would misread. */
export const PROTOCOL_VERSION = '1.6';

export type Compatibility = { ok: true } | { ok: false; message: string };

function parse(version: string): { major: number; minor: number } | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(version);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

/**
 * Whether `ours` can talk to `theirs`; the message says which side to update. Both the daemon (on `manta/hello`)
 * and the client (on the daemon's answer) call it, so either refuses an incompatible peer.
 */
export function checkProtocolCompatibility(ours: string, theirs: string, theirRole: 'client' | 'daemon'): Compatibility {
  const a = parse(ours);
  const b = parse(theirs);
  if (!a) return { ok: false, message: `this side's protocol version '${ours}' is malformed (expected MAJOR.MINOR)` };
  if (!b) return { ok: false, message: `the ${theirRole}'s protocol version '${String(theirs)}' is malformed (expected MAJOR.MINOR)` };
  if (a.major === b.major) return { ok: true };
  const older = a.major < b.major ? (theirRole === 'client' ? 'daemon' : 'client') : theirRole;
  return {
    ok: false,
    message:
      `incompatible MANTA protocol: the ${theirRole} speaks ${theirs}, this ${theirRole === 'client' ? 'daemon' : 'client'} ` +
      `speaks ${ours}; update the ${older} (same major version needed)`,
  };
}
