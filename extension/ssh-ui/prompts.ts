// What the user is asked while MANTA connects to an SSH host, in VS Code: an unknown host key in a modal warning
// (cancel refuses it), a key's passphrase (and whether to keep it in VS Code's secret storage), keyboard-interactive
// prompts and a password, each in an input box. Remembered passphrases live in `context.secrets` only; which keys
// have one is kept in globalState (names of key files, nothing secret) so that they can be forgotten all at once.
// Nothing typed here is logged.
import * as vscode from 'vscode';
import type { SecretStore, SshPrompts } from '../hosts/ssh/types';

const TRUST = 'Trust and Connect';

export class VsCodeSshPrompts implements SshPrompts {
  async confirmHostKey(r: { host: string; port: number; keyType: string; fingerprint: string; otherKnownTypes: string[] }): Promise<boolean> {
    const where = r.port === 22 ? r.host : `[${r.host}]:${r.port}`;
    const known = r.otherKnownTypes.length
      ? `known_hosts holds a ${r.otherKnownTypes.join(', ')} key for this host, but not a ${r.keyType} key: the host offered a key of a type MANTA has not seen from it.`
      : 'This host is not in known_hosts: MANTA has never connected to it.';
    const pick = await vscode.window.showWarningMessage(
      `MANTA: the authenticity of host ${where} cannot be established.`,
      {
        modal: true,
        detail: [
          `Host: ${r.host}`,
          `Port: ${r.port}`,
          `Key type: ${r.keyType}`,
          `Fingerprint: ${r.fingerprint}`,
          '',
          known,
          'Trust it only if this fingerprint is the one the host\'s administrator gives you (ssh-keygen -lf on the host\'s key). It is then added to known_hosts.',
        ].join('\n'),
      },
      TRUST,
    );
    return pick === TRUST;
  }

  async passphrase(r: { host: string; keyFile: string; retry: boolean }): Promise<{ passphrase: string; remember: boolean } | undefined> {
    const passphrase = await vscode.window.showInputBox({
      title: `MANTA · ${r.host}`,
      prompt: `${r.retry ? 'Wrong passphrase. ' : ''}Passphrase for the key ${r.keyFile}`,
      password: true,
      ignoreFocusOut: true,
    });
    if (passphrase === undefined) return undefined;
    const keep = await vscode.window.showInformationMessage(
      `Remember the passphrase of ${r.keyFile} in VS Code's secret storage?`,
      { modal: true, detail: 'MANTA: Forget SSH Passphrases removes every passphrase kept.' },
      'Yes',
      'No',
    );
    return { passphrase, remember: keep === 'Yes' };
  }

  async keyboardInteractive(r: { host: string; name: string; instructions: string; prompts: { prompt: string; echo: boolean }[] }): Promise<string[] | undefined> {
    const answers: string[] = [];
    for (const [i, p] of r.prompts.entries()) {
      const answer = await vscode.window.showInputBox({
        title: `MANTA · ${r.host}${r.name ? ` · ${r.name}` : ''}${r.prompts.length > 1 ? ` (${i + 1}/${r.prompts.length})` : ''}`,
        prompt: [r.instructions, p.prompt].filter((s) => s.trim()).join(' — '),
        password: !p.echo,
        ignoreFocusOut: true,
      });
      if (answer === undefined) return undefined;
      answers.push(answer);
    }
    return answers;
  }

  async password(r: { host: string; user: string; retry: boolean }): Promise<string | undefined> {
    return vscode.window.showInputBox({
      title: `MANTA · ${r.host}`,
      prompt: `${r.retry ? 'Wrong password. ' : ''}Password for ${r.user}@${r.host}`,
      password: true,
      ignoreFocusOut: true,
    });
  }
}

/** The globalState key listing the secret keys stored (names only). */
const STORED_KEYS = 'manta.ssh.storedSecrets';

/** SecretStore over VS Code's SecretStorage, remembering which keys it holds so that they can all be forgotten. */
export class VsCodeSecretStore implements SecretStore {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly state: vscode.Memento,
  ) {}

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.secrets.get(key));
  }

  async store(key: string, value: string): Promise<void> {
    await this.secrets.store(key, value);
    const keys = this.keys();
    if (!keys.includes(key)) await this.state.update(STORED_KEYS, [...keys, key]);
  }

  async delete(key: string): Promise<void> {
    await this.secrets.delete(key);
    await this.state.update(STORED_KEYS, this.keys().filter((k) => k !== key));
  }

  /** Forgets every passphrase kept; the number forgotten. */
  async forgetAll(): Promise<number> {
    const keys = this.keys();
    for (const k of keys) await this.secrets.delete(k);
    await this.state.update(STORED_KEYS, []);
    return keys.length;
  }

  private keys(): string[] {
    const v = this.state.get<unknown>(STORED_KEYS);
    return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
  }
}
