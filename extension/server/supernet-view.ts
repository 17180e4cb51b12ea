// The supernet of a config as the visualizer draws it: units with their widths and strides, and the elastic choice
// lists, with the schema's defaults filled in; for task 'stereo' also the correlation, redirect and decoder.
import type { StereoSupernetView, SupernetView } from '../../daemon/protocol/webview';
import { choiceLists, schemaDefault } from './checks';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown, d: unknown): number => (typeof v === 'number' ? v : typeof d === 'number' ? d : 0);

export function supernetView(config: unknown): SupernetView | null {
  if (!isObject(config) || !isObject(config.supernet) || !Array.isArray(config.supernet.units)) return null;
  const s = config.supernet;
  const c = choiceLists(s);
  if (!c.kernelChoices || !c.expandChoices || !c.depthChoices || !c.widthChoices || !c.resolutionChoices) return null;
  const units = (s.units as unknown[]).map((u) => {
    const unit = isObject(u) ? u : {};
    return {
      width: num(unit.width, 0),
      stride: num(unit.stride, schemaDefault('Unit', 'stride')),
      activation: typeof unit.activation === 'string' ? unit.activation : String(schemaDefault('Unit', 'activation')),
      squeezeExcite: typeof unit.squeezeExcite === 'boolean' ? unit.squeezeExcite : Boolean(schemaDefault('Unit', 'squeezeExcite')),
    };
  });
  const view: SupernetView = {
    units,
    kernel: c.kernelChoices,
    expand: c.expandChoices,
    depth: c.depthChoices,
    width: c.widthChoices,
    resolution: c.resolutionChoices,
    stemWidth: num(isObject(s.stem) ? s.stem.width : undefined, schemaDefault('Stem', 'width')),
  };
  // Every stereo unit halves the resolution, whatever stride the config gives it (daemon/tasks/stereo/layout.ts).
  if (config.task === 'stereo') return { ...view, units: units.map((u) => ({ ...u, stride: 2 })), task: 'stereo', stereo: stereoView(s.stereo) };
  return { ...view, task: 'classification', firstBlockWidth: num(isObject(s.firstBlock) ? s.firstBlock.width : undefined, schemaDefault('FirstBlock', 'width')) };
}

/** `supernet.stereo` with the schema's defaults for what it leaves out (or gets wrong). */
function stereoView(stereo: unknown): StereoSupernetView {
  const st = isObject(stereo) ? stereo : {};
  const field = (name: keyof StereoSupernetView) => num(st[name], schemaDefault('StereoSupernet', name));
  const widths = Array.isArray(st.decoderWidths) && st.decoderWidths.every((w) => typeof w === 'number') ? (st.decoderWidths as number[]) : schemaDefault('StereoSupernet', 'decoderWidths');
  return {
    correlationUnit: field('correlationUnit'),
    maxDisplacement: field('maxDisplacement'),
    correlationStride: field('correlationStride'),
    redirectWidth: field('redirectWidth'),
    decoderWidths: Array.isArray(widths) ? widths.map(Number) : [],
  };
}
