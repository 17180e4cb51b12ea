// Colours from VS Code's theme variables, so charts and diagrams are legible in light, dark and high-contrast themes;
// re-read when the theme changes (VS Code swaps the body's class).

export interface Palette {
  foreground: string;
  muted: string;
  background: string;
  grid: string;
  border: string;
  accent: string;
  series: string[];
  highContrast: boolean;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function readPalette(): Palette {
  const highContrast = document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  const foreground = cssVar('--vscode-editor-foreground', cssVar('--vscode-foreground', '#cccccc'));
  return {
    foreground,
    muted: cssVar('--vscode-descriptionForeground', '#999999'),
    background: cssVar('--vscode-editor-background', '#1e1e1e'),
    grid: highContrast ? cssVar('--vscode-contrastBorder', foreground) : cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.25)'),
    border: cssVar('--vscode-panel-border', cssVar('--vscode-contrastBorder', 'rgba(128,128,128,0.35)')),
    accent: cssVar('--vscode-focusBorder', '#007fd4'),
    series: [
      cssVar('--vscode-charts-blue', '#3794ff'),
      cssVar('--vscode-charts-orange', '#d18616'),
      cssVar('--vscode-charts-green', '#89d185'),
      cssVar('--vscode-charts-purple', '#b180d7'),
      cssVar('--vscode-charts-red', '#f14c4c'),
      cssVar('--vscode-charts-yellow', '#cca700'),
    ],
    highContrast,
  };
}

/** Calls `onChange` whenever VS Code switches theme. */
export function watchTheme(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/** A colour with transparency, for the faint raw curve behind a smoothed one. */
export function faint(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color.trim());
  if (m) {
    const n = parseInt(m[1], 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^)]+)\)$/.exec(color.trim());
  if (rgb) {
    const [r, g, b] = rgb[1].split(',').map((x) => x.trim());
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  return color;
}

/** Creates an element with classes and text, the one DOM helper the pages need. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Replaces a table's content with a header row and body rows. */
export function fillTable(table: HTMLTableElement, head: HTMLTableRowElement, rows: HTMLTableRowElement[]): void {
  const thead = el('thead');
  thead.append(head);
  const tbody = el('tbody');
  tbody.append(...rows);
  table.replaceChildren(thead, tbody);
}

export const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Base64 of a data URL's payload (canvas.toDataURL). */
export function dataUrlPayload(url: string): string {
  return url.slice(url.indexOf(',') + 1);
}
