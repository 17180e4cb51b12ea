// A run's report in its webview: the extension's Content-Security-Policy comes first in the page's head, whatever
// the report brings, so the page can show itself (inline styles, data: images) and do nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPORT_CSP, reportPageHtml } from '../../extension/panels/html';

const meta = (csp: string) => `<meta http-equiv="Content-Security-Policy" content="${csp.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')}">`;

test('the report page gets the strict policy first in its head', () => {
  assert.match(REPORT_CSP, /^default-src 'none'/);
  assert.doesNotMatch(REPORT_CSP, /script-src|connect-src|unsafe-eval/);
  const report = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>MANTA · tiny</title></head><body><h1>tiny</h1></body></html>`;
  const page = reportPageHtml(report);
  assert.equal(page, report.replace('<head>', `<head>${meta(REPORT_CSP)}`));
  // A head with attributes, and a fragment without one.
  assert.ok(reportPageHtml('<html><HEAD id="h"><title>x</title></HEAD></html>').startsWith(`<html><HEAD id="h">${meta(REPORT_CSP)}<title>`));
  const fragment = reportPageHtml('<p>only a fragment</p>');
  assert.ok(fragment.includes(`<head>${meta(REPORT_CSP)}</head>`) && fragment.includes('<body><p>only a fragment</p></body>'));
});
