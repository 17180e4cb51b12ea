// What a host is, asked in one round trip before anything is deployed: OS, architecture, home, the Node that will run
// the daemon (and its version), GPUs (nvidia-smi), free disk under ~/.manta, and whether the GPU engine is installed.
import type { Client } from 'ssh2';
import { exec, shellQuote } from './remote';
import { SshHostError } from './types';

/** The oldest Node the daemon runs on (package.json engines). */
export const MIN_NODE_MAJOR = 20;

export interface HostProbe {
  os: string;
  arch: string;
  home: string;
  uid: string;
  /** The Node binary found (absolute), and its version ('v20.11.1'); absent: none found. */
  node?: { path: string; version: string };
  /** Lines of `nvidia-smi -L`: 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: …)'. */
  gpus: string[];
  /** Free bytes on the file system holding the home folder. */
  freeBytes?: number;
  /** @tensorflow/tfjs-node-gpu is installed under ~/.manta (the daemon then uses it). */
  gpuEngineInstalled: boolean;
}

/**
 * The probe script. Node is looked for where non-interactive logins miss it too (nvm and friends set PATH only in
 * interactive shells): the configured path, PATH, ~/.manta/node, nvm, Volta, /usr/local, Homebrew.
 */
export function probeScript(nodePath?: string): string {
  return [
    'echo "os=$(uname -s)"',
    'echo "arch=$(uname -m)"',
    'echo "home=$HOME"',
    'echo "uid=$(id -u)"',
    'NODE=',
    `for c in ${nodePath ? shellQuote(nodePath) : ''} "$(command -v node 2>/dev/null)" "$HOME/.manta/node/bin/node" $(ls -d "$HOME"/.nvm/versions/node/v*/bin/node 2>/dev/null | sort -r) "$HOME/.volta/bin/node" /usr/local/bin/node /opt/homebrew/bin/node; do`,
    '  if [ -n "$c" ] && [ -x "$c" ]; then NODE="$c"; break; fi',
    'done',
    'if [ -n "$NODE" ]; then echo "node=$NODE"; echo "nodeVersion=$("$NODE" -e "process.stdout.write(process.version)" 2>/dev/null)"; fi',
    'if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L 2>/dev/null | sed "s/^/gpu=/"; fi',
    'mkdir -p "$HOME/.manta" 2>/dev/null',
    'echo "freeKB=$(df -Pk "$HOME/.manta" 2>/dev/null | awk \'NR==2 {print $4}\')"',
    'if [ -d "$HOME/.manta/node_modules/@tensorflow/tfjs-node-gpu" ]; then echo "gpuEngine=1"; fi',
    'true',
  ].join('\n');
}

export function parseProbe(text: string): HostProbe {
  const probe: HostProbe = { os: '', arch: '', home: '', uid: '', gpus: [], gpuEngineInstalled: false };
  let node: string | undefined;
  let nodeVersion: string | undefined;
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).trim();
    if (key === 'os') probe.os = value;
    else if (key === 'arch') probe.arch = value;
    else if (key === 'home') probe.home = value;
    else if (key === 'uid') probe.uid = value;
    else if (key === 'node') node = value;
    else if (key === 'nodeVersion') nodeVersion = value;
    else if (key === 'gpu' && value) probe.gpus.push(value);
    else if (key === 'freeKB' && /^\d+$/.test(value)) probe.freeBytes = Number(value) * 1024;
    else if (key === 'gpuEngine') probe.gpuEngineInstalled = true;
  }
  if (node && nodeVersion) probe.node = { path: node, version: nodeVersion };
  return probe;
}

/** Probes the host and checks that it can run the daemon at all (POSIX, a recent enough Node). */
export async function probeHost(client: Client, label: string, nodePath?: string): Promise<HostProbe> {
  const r = await exec(client, `sh -c ${shellQuote(probeScript(nodePath))}`, { timeoutMs: 30000 }).catch((e: Error) => {
    throw new SshHostError(`${label}: probing the host failed: ${e.message}`, label, 'probing', 'probe');
  });
  const probe = parseProbe(r.stdout);
  if (!probe.os || !probe.home) {
    throw new SshHostError(
      `${label}: the host did not answer the probe like a POSIX system (Linux or macOS) does${r.stderr ? `: ${r.stderr.trim().slice(0, 200)}` : ''}; MANTA's daemon runs on Linux and macOS hosts`,
      label,
      'probing',
      'probe',
    );
  }
  if (!probe.node) {
    throw new SshHostError(
      `${label}: Node.js was not found on the host (looked on the login PATH, ~/.manta/node, nvm, Volta, /usr/local/bin). Install Node ${MIN_NODE_MAJOR} or newer there (e.g. from nodejs.org, or nvm), or set "nodePath" for this host in the manta.remoteHosts setting.`,
      label,
      'probing',
      'no-node',
    );
  }
  const major = Number(/^v(\d+)/.exec(probe.node.version)?.[1] ?? 0);
  if (major < MIN_NODE_MAJOR) {
    throw new SshHostError(
      `${label}: ${probe.node.path} is Node ${probe.node.version}; MANTA's daemon needs Node ${MIN_NODE_MAJOR} or newer. Install a newer Node on the host, or point "nodePath" in the manta.remoteHosts setting at one.`,
      label,
      'probing',
      'old-node',
    );
  }
  return probe;
}
