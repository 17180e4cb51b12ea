// The page's side of the typed webview protocol (daemon/protocol/webview.ts): send commands, receive notifications,
// persist view state with getState/setState so a restored panel resumes.
import { webviewMessage, isWebviewMessage } from '../../daemon/protocol/webview';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export class PageChannel<Commands, Notifications, Persisted extends object> {
  private readonly api: VsCodeApi = acquireVsCodeApi();
  private readonly handlers = new Map<keyof Notifications, (params: never) => void>();

  constructor() {
    window.addEventListener('message', (e: MessageEvent) => {
      const m: unknown = e.data;
      if (!isWebviewMessage(m)) return;
      const h = this.handlers.get(m.method as keyof Notifications);
      if (h) h(m.params as never);
    });
  }

  on<K extends keyof Notifications>(method: K, handler: (params: Notifications[K]) => void): void {
    this.handlers.set(method, handler as (params: never) => void);
  }

  send<K extends keyof Commands>(method: K, params: Commands[K]): void {
    this.api.postMessage(webviewMessage<Commands, K>(method, params));
  }

  get persisted(): Partial<Persisted> {
    const s = this.api.getState();
    return typeof s === 'object' && s !== null ? (s as Partial<Persisted>) : {};
  }

  persist(patch: Partial<Persisted>): void {
    this.api.setState({ ...this.persisted, ...patch });
  }
}
