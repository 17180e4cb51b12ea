// The HTML shell of both webviews: a strict Content-Security-Policy (nothing by default; scripts only with this
// render's nonce; styles, images and fonts only from the webview's own resource origin), the bundle and its CSS.
// Pure (no vscode), so the Chromium tests load exactly this page.
import { randomBytes } from 'node:crypto';

export interface WebviewPage {
  title: string;
  /** `webview.cspSource`: the origin local resources are served from. */
  cspSource: string;
  /** URIs (through asWebviewUri) of the script bundle and its stylesheets. */
  scriptUri: string;
  styleUris: string[];
  nonce: string;
}

/** A fresh nonce per render, from a crypto source. */
export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function webviewPageHtml(page: WebviewPage): string {
  const styles = page.styleUris.map((u) => `<link rel="stylesheet" href="${escapeAttr(u)}">`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(page.cspSource, page.nonce))}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${styles}
    <title>${escapeAttr(page.title)}</title>
  </head>
  <body>
    <div id="app" role="main"></div>
    <script nonce="${escapeAttr(page.nonce)}" src="${escapeAttr(page.scriptUri)}"></script>
  </body>
</html>`;
}

/** What a run's report page may do in its webview: show itself, with its inline styles and data: images — no
 * scripts, no requests anywhere. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** A run's report.html (as its daemon sent it) with REPORT_CSP put first in its head: with the report's own policy,
 * if any, the stricter of the two applies. */
export function reportPageHtml(reportHtml: string): string {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${escapeAttr(REPORT_CSP)}">`;
  const head = /<head(\s[^>]*)?>/i.exec(reportHtml);
  if (head) return reportHtml.slice(0, head.index + head[0].length) + meta + reportHtml.slice(head.index + head[0].length);
  return `<!DOCTYPE html><html><head>${meta}</head><body>${reportHtml}</body></html>`;
}
