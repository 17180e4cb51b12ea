// The GPU engine on a host: @tensorflow/tfjs-node-gpu installed under ~/.manta (Node resolves it from the deployed
// bundle's folder upwards), with the host's own npm, when the user asks for it. Its install script downloads
// libtensorflow, so the host must reach npm's registry and Google's storage; when it cannot, the daemon goes on with
// the best backend it has and says which.
import type { Client } from 'ssh2';
import type { HostProbe } from './probe';
import { exec, shellQuote } from './remote';

/** The engine version matching the bundled @tensorflow/tfjs. */
export const GPU_ENGINE_PACKAGE = '@tensorflow/tfjs-node-gpu@^4.22.0';

export async function installGpuEngine(client: Client, probe: HostProbe, label: string): Promise<{ ok: boolean; message: string }> {
  const node = probe.node?.path;
  if (!node) return { ok: false, message: `${label}: no Node, so no GPU engine` };
  const npmCli = `"$(dirname ${shellQuote(node)})/npm"`;
  const r = await exec(client, `cd "$HOME/.manta" && PATH="$(dirname ${shellQuote(node)}):$PATH" ${npmCli} install --no-audit --no-fund --no-save ${shellQuote(GPU_ENGINE_PACKAGE)} 2>&1`, {
    timeoutMs: 15 * 60000,
  }).catch((e: Error) => ({ code: null, stdout: e.message, stderr: '' }));
  if (r.code === 0) return { ok: true, message: `installed ${GPU_ENGINE_PACKAGE} under ~/.manta` };
  const tail = r.stdout.trim().split('\n').slice(-5).join('\n');
  return {
    ok: false,
    message: `could not install ${GPU_ENGINE_PACKAGE} on ${label} (the host must reach registry.npmjs.org and storage.googleapis.com); the daemon runs with the best backend it finds. npm said:\n${tail}`,
  };
}
