// Loads a built webview bundle (dist/webviews/<name>.js) in headless Chromium inside the same HTML shell and CSP the
// extension renders, with a stand-in for VS Code's `acquireVsCodeApi` that records what the page posts and lets the
// test deliver the extension's messages — the real message protocol, no VS Code.
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeNonce, webviewPageHtml } from '../../extension/panels/html';
import { webviewMessage } from '../../daemon/protocol/webview';

export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = resolve(__dirname, '../..');
export const ARTIFACTS = join(ROOT, 'test-artifacts');
const DIST = join(ROOT, 'dist', 'webviews');

/** Why the webview suites cannot run here, or undefined when they can. */
export function skipReason(bundle: string): string | undefined {
  if (!existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium`;
  if (!existsSync(join(DIST, `${bundle}.js`))) return `dist/webviews/${bundle}.js is missing: run npm run build`;
  return undefined;
}

/** The Chromium flags the offline recipe uses (no sandbox as root, no GPU, no network chatter). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.html': 'text/html' };

export interface WebviewHarness {
  page: Page;
  /** Messages the page posted, in order. */
  posted(): Promise<{ method: string; params: unknown; time: number }[]>;
  /** Waits until the page has posted a message with this method; returns the latest such. */
  waitForPosted(method: string, timeoutMs?: number): Promise<{ method: string; params: unknown }>;
  /** Delivers a message from the "extension", as VS Code does: a window message event. */
  deliver<N, K extends keyof N>(method: K, params: N[K]): Promise<void>;
  /** What the page persisted with setState. */
  persisted(): Promise<unknown>;
  /** Content-Security-Policy violations and page errors seen so far. */
  problems: string[];
  close(): Promise<void>;
}

export async function openWebview(bundle: 'monitor' | 'visualizer', opts: { theme?: Theme; restoredState?: unknown } = {}): Promise<WebviewHarness> {
  const nonce = makeNonce();
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        webviewPageHtml({
          title: bundle,
          cspSource: origin,
          scriptUri: `${origin}/dist/${bundle}.js`,
          styleUris: [`${origin}/dist/${bundle}.css`],
          nonce,
        }),
      );
      return;
    }
    const file = join(DIST, url.pathname.replace(/^\/dist\//, ''));
    if (!file.startsWith(DIST) || !existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  // tsx compiles functions with esbuild's keepNames, whose `__name` helper does not exist inside the page.
  await page.addInitScript('window.__name = (f) => f;');
  await page.addInitScript((restored: unknown) => {
    const w = window as unknown as { __posted: unknown[]; __state: unknown; __csp: string[] };
    w.__posted = [];
    w.__state = restored;
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective}: ${e.blockedURI}`));
    (window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
      postMessage: (m: unknown) => w.__posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => w.__state,
      setState: (s: unknown) => {
        w.__state = s;
      },
    });
  }, opts.restoredState);
  if (opts.theme) await page.addInitScript(themeScript(opts.theme));
  await page.goto(`${origin}/`);
  const posted = () => page.evaluate(() => (window as unknown as { __posted: { method: string; params: unknown; time: number }[] }).__posted);
  return {
    page,
    problems,
    posted,
    async waitForPosted(method, timeoutMs = 10_000) {
      await page.waitForFunction((m) => (window as unknown as { __posted: { method: string }[] }).__posted.some((p) => p.method === m), method, { timeout: timeoutMs });
      const all = await posted();
      return all.filter((p) => p.method === method).pop()!;
    },
    async deliver(method, params) {
      // As a JSON string: Playwright's own argument serialisation is slow for large object graphs (a 4000-event batch).
      const json = JSON.stringify(webviewMessage(method, params));
      await page.evaluate((m) => window.postMessage(JSON.parse(m), '*'), json);
    },
    persisted: () => page.evaluate(() => (window as unknown as { __state: unknown }).__state),
    async close() {
      const csp = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp).catch(() => []);
      problems.push(...csp.map((c) => `CSP violation: ${c}`));
      await browser.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export type Theme = 'dark' | 'light' | 'high-contrast';

/** A few of the --vscode-* variables VS Code puts on the page, per theme kind, and the body class it sets. */
function themeScript(theme: Theme): string {
  const vars: Record<Theme, Record<string, string>> = {
    dark: { 'editor-background': '#1e1e1e', 'editor-foreground': '#d4d4d4', foreground: '#cccccc', 'descriptionForeground': '#9d9d9d', 'charts-blue': '#3794ff', 'charts-orange': '#d18616', 'charts-green': '#89d185', 'charts-red': '#f14c4c', 'charts-purple': '#b180d7', 'charts-yellow': '#cca700', 'focusBorder': '#007fd4', 'panel-border': '#80808059' },
    light: { 'editor-background': '#ffffff', 'editor-foreground': '#000000', foreground: '#616161', 'descriptionForeground': '#717171', 'charts-blue': '#1a85ff', 'charts-orange': '#d18616', 'charts-green': '#388a34', 'charts-red': '#e51400', 'charts-purple': '#652d90', 'charts-yellow': '#bf8803', 'focusBorder': '#0090f1', 'panel-border': '#80808059' },
    'high-contrast': { 'editor-background': '#000000', 'editor-foreground': '#ffffff', foreground: '#ffffff', 'descriptionForeground': '#ffffff', 'charts-blue': '#3794ff', 'charts-orange': '#ff8c00', 'charts-green': '#89d185', 'charts-red': '#f14c4c', 'charts-purple': '#b180d7', 'charts-yellow': '#ffff00', 'focusBorder': '#f38518', 'contrastBorder': '#6fc3df', 'panel-border': '#6fc3df' },
  };
  const entries = Object.entries(vars[theme]).map(([k, v]) => [`--vscode-${k}`, v]);
  const cls = theme === 'high-contrast' ? 'vscode-high-contrast' : `vscode-${theme}`;
  // CSSOM, not a style attribute: the page's CSP forbids inline styles, as VS Code's does.
  return `document.addEventListener('DOMContentLoaded', () => { for (const [k, v] of ${JSON.stringify(entries)}) document.documentElement.style.setProperty(k, v); document.body.classList.add(${JSON.stringify(cls)}); }, { once: true });`;
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
