// The messages between the extension and its two webviews (training monitor, supernet visualizer), typed once by a
// method-to-params map per direction, as gitlens does: commands go webview → extension, notifications go
// extension → webview, and the one request (`core/ready`) is answered by a `…/completion` notification that carries
// the initial state. Every message is timestamped. Plain JSON only; the webviews import this file and nothing else
// of MANTA but the telemetry and value types.
import type { RunSummary } from './methods';
import type { ParetoPoint, TelemetryEvent } from './events';
import type { Arch, ChoiceLists } from './values';

/** Where the daemon connection stands, as the webviews show it. */
export type ConnectionState = 'connecting' | 'connected' | 'down';

/** A host as a webview names it (the local daemon now; SSH hosts later). */
export interface HostLabel {
  id: string;
  label: string;
  connection: ConnectionState;
  /** Backend and device of the host, e.g. "wasm · AMD EPYC (2 threads)". */
  backend?: string;
}

/**
 * The training monitor's state, as the extension sends it on `core/ready` and on every change. Events are not part
 * of it: they follow in `monitor/events` batches (replay first, then live).
 */
/** A run on a host: run ids are unique per daemon, so a host's id goes with them. */
export interface RunKey {
  hostId: string;
  runId: string;
}

export interface MonitorState {
  /** Runs shown, focused run first; the others are overlaid for comparison. The page persists this (setState) so a
   * restored panel shows the same runs. */
  selected: RunKey[];
  /** Summaries of every run the hosts know, for the run picker and the header. */
  runs: RunSummary[];
  hosts: HostLabel[];
  /** Why nothing may be arriving (connection down, no run picked); null when events flow. */
  waiting: string | null;
  /** The last error the extension hit serving this panel (a failed attach …), for a banner. */
  error: string | null;
  /** A section the user asked to see (MANTA: Show Pareto Front): the page scrolls to it once per new `seq`. */
  reveal?: { view: 'pareto'; seq: number };
}

/** The supernet as the visualizer draws it: its units and their block slots, and the elastic choices. */
export interface SupernetView extends ChoiceLists {
  units: { width: number; stride: number; activation?: string; squeezeExcite?: boolean }[];
  /** Channels of the stem and the fixed first block, where known (a stereo supernet has no first block). */
  stemWidth?: number;
  firstBlockWidth?: number;
  /** The config's task; absent means classification. */
  task?: 'classification' | 'stereo';
  /** A stereo supernet's parts outside its six units (config `supernet.stereo`, defaults filled in). */
  stereo?: StereoSupernetView;
}

/** What the visualizer draws of a stereo supernet besides its units: the correlation, the redirect and the decoder. */
export interface StereoSupernetView {
  /** Units 1…correlationUnit are siamese (both views, shared weights); the correlation follows the last of them. */
  correlationUnit: number;
  /** Largest displacement tried and the step between tried ones, in pixels of the correlated features. */
  maxDisplacement: number;
  correlationStride: number;
  /** Channels of the 1×1 conv of the left features concatenated with the correlation. */
  redirectWidth: number;
  /** Channels of the six transposed convolutions, coarse (1/32) to fine (full resolution). */
  decoderWidths: number[];
}

/** Which subnet the visualizer highlights, and why. */
export interface HighlightedSubnet {
  arch: Arch;
  /** 'training' (sampled by the live run), 'pareto' (picked on the front), 'largest' … */
  source: string;
  label: string;
  macs?: number;
  params?: number;
  accuracy?: number;
}

/** Where a diagram comes from, persisted by the page so that a restored panel loads it again. */
export type VisualizerOrigin = { kind: 'config'; uri: string } | { kind: 'run'; hostId: string; runId: string };

export interface VisualizerState {
  /** A title for the diagram: the config's file name or the run's name. */
  title: string;
  origin: VisualizerOrigin | null;
  supernet: SupernetView | null;
  subnet: HighlightedSubnet | null;
  /** Follow the live run's sampled subnets (true) or keep the picked one (false). */
  followTraining: boolean;
  waiting: string | null;
}

/** A file the webview wants saved (it cannot write files itself): PNG as base64, CSV and SVG as text. */
export interface SaveFileParams {
  suggestedName: string;
  encoding: 'base64' | 'utf8';
  content: string;
}

// ——— monitor ———

/** Webview → extension. */
export interface MonitorCommands {
  /** The page is loaded; answered by `core/ready/completion` with the state. */
  'core/ready': Record<string, never>;
  /** Show these runs, the first focused and the others overlaid. */
  'monitor/selectRuns': { selected: RunKey[] };
  /** A Pareto point was clicked: show that subnet in the visualizer. */
  'monitor/showSubnet': { runId: string; point: ParetoPoint; index: number };
  'core/saveFile': SaveFileParams;
}

/** Extension → webview. */
export interface MonitorNotifications {
  'core/ready/completion': { state: MonitorState };
  'monitor/state': { state: MonitorState };
  /** Consecutive events of one run, in seq order: the replay of its log first, then live batches. */
  'monitor/events': { runId: string; events: TelemetryEvent[] };
  /** The run's log was cut back to `toSeq` (a resume): drop the events after it. */
  'monitor/truncate': { runId: string; toSeq: number };
  'core/saved': { path: string | null };
}

// ——— visualizer ———

export interface VisualizerCommands {
  'core/ready': Record<string, never>;
  'visualizer/follow': { followTraining: boolean };
  'core/saveFile': SaveFileParams;
}

export interface VisualizerNotifications {
  'core/ready/completion': { state: VisualizerState };
  'visualizer/state': { state: VisualizerState };
  'core/saved': { path: string | null };
}

/** One message on the wire: the method, its params and when it was sent (ms since the epoch). */
export type WebviewMessage<M> = { [K in keyof M]: { method: K; params: M[K]; time: number } }[keyof M];

export function webviewMessage<M, K extends keyof M>(method: K, params: M[K], time = Date.now()): { method: K; params: M[K]; time: number } {
  return { method, params, time };
}

/** Whether a value looks like a webview message (the other side may be an older or foreign page). */
export function isWebviewMessage(value: unknown): value is { method: string; params: unknown; time: number } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { method?: unknown }).method === 'string' &&
    typeof (value as { time?: unknown }).time === 'number'
  );
}

/** The view types of the two panels (serializers and `onWebviewPanel:` activation events use them). */
export const MONITOR_VIEW_TYPE = 'manta.monitor';
export const VISUALIZER_VIEW_TYPE = 'manta.visualizer';
