// Where the daemon may write for a client: what the allowed roots protect. The socket is private to its user, so
// every client already is that user, and reading what the user can read (a config, a dataset anywhere) is no
// privilege: reads are not confined. Writes are: a config — a file from anywhere, e.g. a cloned repository — names
// where its runs go (output.runsDir), and an export names its outDir; those must lie in the config's own folder (the
// run's folder, for an export) or in one of the roots the daemon was started with (--allow-roots). Symbolic links are
// resolved first, so a link cannot lead outside. Paths are absolute on the daemon's host.
import { realpathSync } from 'node:fs';
import * as path from 'node:path';

/** The real path of `p`, resolving links in the longest prefix that exists (the rest may not exist yet). */
export function realPathOf(p: string): string {
  let head = path.resolve(p);
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(head), ...tail);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return path.join(head, ...tail);
      tail.unshift(path.basename(head));
      head = parent;
    }
  }
}

export function isInside(child: string, root: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (!rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel));
}

/** Whether `p` (resolved, links followed) lies in one of `roots`. */
export function insideRoots(p: string, roots: readonly string[]): boolean {
  const real = realPathOf(p);
  return roots.some((root) => isInside(real, realPathOf(root)));
}

/** Why a write target is refused, naming the path and the fix (for messages; never a rule name). */
export function outsideWriteRootsMessage(what: string, target: string, implicit: readonly { label: string; dir: string }[], roots: readonly string[]): string {
  const places = [...implicit.map((i) => `${i.label} ${i.dir}`), roots.length > 0 ? `the allowed roots ${roots.join(', ')}` : 'no allowed roots'].join(', ');
  return (
    `${what} ${target}${realPathOf(target) !== path.resolve(target) ? ` (through a link: ${realPathOf(target)})` : ''} is outside the folders this daemon may write to (${places}); ` +
    `choose a folder inside one of them, or allow this one: start the daemon with --allow-roots ${target}` +
    ` (in VS Code: "Allow this folder", the machine setting manta.daemon.allowedRoots)`
  );
}
