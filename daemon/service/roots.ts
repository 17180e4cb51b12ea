// Paths in requests must lie inside allowed roots: the config's own folder and the roots the daemon was started
// with. Symbolic links are resolved first, so a link cannot lead outside. Paths are absolute on the daemon's host.
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
