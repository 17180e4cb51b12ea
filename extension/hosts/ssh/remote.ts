// Small wrappers over an ssh2 connection: run a command (POSIX sh on the host) and collect its output, open SFTP,
// quote for the shell. Commands are built from quoted values only, never from text a user typed unquoted.
import type { Client, SFTPWrapper } from 'ssh2';

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

/** Runs `command` through the login user's shell; rejects only when the channel cannot be opened or time runs out. */
export function exec(client: Client, command: string, options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? 60000;
  // sshd drops most client-sent environment (AcceptEnv): variables are set in the command itself.
  const prefix = Object.entries(options.env ?? {})
    .map(([k, v]) => `${k}=${shellQuote(v)} `)
    .join('');
  return new Promise((resolve, reject) => {
    client.exec(`${prefix}${command}`, (err, channel) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => {
        channel.close();
        reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s from: ${command.slice(0, 80)}`));
      }, timeoutMs);
      channel.setEncoding('utf8');
      channel.stderr.setEncoding('utf8');
      channel.on('data', (d: string) => (stdout += d));
      channel.stderr.on('data', (d: string) => (stderr += d));
      let exit: { code: number | null; signal?: string } = { code: null };
      // 'exit' carries the status; 'close' comes once the streams are drained.
      channel.on('exit', (code: number | null, signal?: string) => (exit = { code, ...(signal ? { signal } : {}) }));
      channel.on('close', () => {
        clearTimeout(timer);
        resolve({ ...exit, stdout, stderr });
      });
    });
  });
}

export function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

/** Single-quotes a value for POSIX sh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A path on the host for sh: `~/x` stays expandable ("$HOME"/x), everything else is quoted. */
export function shellPath(p: string): string {
  if (p === '~') return '"$HOME"';
  if (p.startsWith('~/')) return `"$HOME"/${shellQuote(p.slice(2))}`;
  return shellQuote(p);
}
