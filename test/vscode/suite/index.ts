// The module VS Code loads as extensionTestsPath (for @vscode/test-electron and for the offline VS Code server alike):
// runs the mocha suites in the extension host and writes their outcome to $MANTA_VSCODE_RESULTS, so that a driver
// outside VS Code can tell a clean pass from anything else.
import Mocha from 'mocha';
import { writeFileSync } from 'node:fs';
import { extensionSuite } from './extension.suite';
import { installedSuite } from './installed.suite';

/** The daemon in its own mount namespace that the driver started ($MANTA_VSCODE_PRIVATE_DAEMON, JSON). */
export interface PrivateDaemonSetup {
  /** Its socket, on a path both sides see. */
  socket: string;
  /** A run started on it (the tiny config), finishing in seconds. */
  runId: string;
  /** The run's folder as the daemon names it: inside a tmpfs the extension host cannot see. */
  runDir: string;
  /** A local folder to export subnets into. */
  exportTo: string;
}

/** A real sshd the suite reaches as an SSH host named in an ssh config (manta.ssh.configFile). */
export interface SshHostSetup {
  /** The host's id in the extension: 'ssh:<alias>'. */
  hostId: string;
  /** The home folder sessions on it get (the daemon is deployed under it). */
  home: string;
  /** A local folder to fetch run files into. */
  fetchTo: string;
}

export interface SuiteResults {
  passed: number;
  failed: number;
  pending: number;
  failures: { title: string; error: string }[];
  activationMs?: number;
  finishedAt: number;
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 180_000, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'extension.suite', mocha);
  extensionSuite();
  installedSuite();
  const resultsFile = process.env.MANTA_VSCODE_RESULTS;
  return new Promise((resolve, reject) => {
    const results: SuiteResults = { passed: 0, failed: 0, pending: 0, failures: [], finishedAt: 0 };
    const runner = mocha.run((failures) => {
      results.finishedAt = Date.now();
      results.activationMs = (globalThis as { mantaActivationMs?: number }).mantaActivationMs;
      if (resultsFile) writeFileSync(resultsFile, JSON.stringify(results, null, 2));
      if (failures > 0) reject(new Error(`${failures} MANTA integration test(s) failed`));
      else resolve();
    });
    runner.on('pass', () => results.passed++);
    runner.on('pending', () => results.pending++);
    runner.on('fail', (t, err: Error) => {
      results.failed++;
      results.failures.push({ title: t.fullTitle(), error: String(err?.stack ?? err) });
    });
  });
}
