// Where a client finds the local daemon: a Unix socket in a per-user runtime folder. Pure string logic (no node
// imports), so the extension computes the same path as the daemon; a remote host's socket is forwarded over SSH.

export const SOCKET_FILE = 'daemon.sock';

/** Linux's limit on a Unix socket path (sun_path) is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

/** `$XDG_RUNTIME_DIR/manta`, or `/tmp/manta-<uid>` where there is none (posix paths). */
export function runtimeDir(env: { XDG_RUNTIME_DIR?: string }, uid: number, tmpDir = '/tmp'): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && xdg.startsWith('/')) return `${xdg.replace(/\/+$/, '')}/manta`;
  return `${tmpDir.replace(/\/+$/, '')}/manta-${uid}`;
}

export function defaultSocketPath(env: { XDG_RUNTIME_DIR?: string }, uid: number, tmpDir = '/tmp'): string {
  return `${runtimeDir(env, uid, tmpDir)}/${SOCKET_FILE}`;
}
