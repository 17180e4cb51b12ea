// The supernet of a config as the visualizer draws it: units with their widths and strides, and the elastic choice
// lists, with the schema's defaults filled in.
import type { SupernetView } from '../../daemon/protocol/webview';
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
  return {
    units,
    kernel: c.kernelChoices,
    expand: c.expandChoices,
    depth: c.depthChoices,
    width: c.widthChoices,
    resolution: c.resolutionChoices,
    stemWidth: num(isObject(s.stem) ? s.stem.width : undefined, schemaDefault('Stem', 'width')),
    firstBlockWidth: num(isObject(s.firstBlock) ? s.firstBlock.width : undefined, schemaDefault('FirstBlock', 'width')),
  };
}
