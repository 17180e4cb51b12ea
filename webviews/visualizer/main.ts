// The supernet visualizer page: draws the supernet of a config or a run, highlights the subnet being trained (live)
// or one picked on the Pareto front, and exports the diagram as SVG.
import './visualizer.css';
import type { VisualizerCommands, VisualizerNotifications, VisualizerOrigin, VisualizerState } from '../../daemon/protocol/webview';
import { PageChannel } from '../shared/vscode-api';
import { el, readPalette, watchTheme } from '../shared/theme';
import { renderDiagram, svgFile } from './diagram';

interface Persisted {
  origin: VisualizerOrigin | null;
}

const channel = new PageChannel<VisualizerCommands, VisualizerNotifications, Persisted>();
let state: VisualizerState | undefined;
let palette = readPalette();

const app = document.getElementById('app')!;
const header = el('header', 'top');
const title = el('h1', undefined, 'Supernet');
const tools = el('div', 'toolbar');
const followLabel = el('label', 'tool');
const follow = el('input');
follow.type = 'checkbox';
follow.id = 'follow';
followLabel.append(follow, ' Follow training');
const exportButton = el('button', 'button', 'Export SVG');
exportButton.id = 'export-svg';
tools.append(followLabel, exportButton);
header.append(title, tools);
const banner = el('div', 'banner');
banner.setAttribute('role', 'status');
const stage = el('div', 'stage');
app.append(header, banner, stage);

function render(): void {
  const s = state;
  title.textContent = s ? `Supernet: ${s.title}` : 'Supernet';
  follow.checked = s?.followTraining ?? false;
  followLabel.hidden = s?.origin?.kind !== 'run';
  banner.textContent = s?.waiting ?? (s ? '' : 'Waiting for the extension');
  banner.hidden = !banner.textContent;
  stage.replaceChildren();
  if (s?.supernet) stage.append(renderDiagram(s.supernet, s.subnet, palette));
  exportButton.disabled = !s?.supernet;
}

follow.onchange = () => channel.send('visualizer/follow', { followTraining: follow.checked });
exportButton.onclick = () => {
  const node = stage.querySelector('svg');
  if (node && state) channel.send('core/saveFile', { suggestedName: `${state.title.replace(/\.manta\.json$|\.json$/, '')}-supernet.svg`, encoding: 'utf8', content: svgFile(node) });
};
watchTheme(() => {
  palette = readPalette();
  render();
});

const apply = (s: VisualizerState) => {
  state = s;
  channel.persist({ origin: s.origin });
  render();
};
channel.on('core/ready/completion', ({ state: s }) => apply(s));
channel.on('visualizer/state', ({ state: s }) => apply(s));
channel.on('core/saved', ({ path }) => {
  if (!path) return;
  banner.textContent = `Saved ${path}`;
  banner.hidden = false;
});
render();
channel.send('core/ready', {});
