// `manta export <runDir> --arch <json|index> [--format tfjs|onnx] [--out dir]`: any subnet of a finished run as a stock
// tfjs model (model.json + weights.bin, the default) or as ONNX (model.onnx + README.md: opset 17, NCHW, batch norm
// folded), batch norm recalibrated, with its measured accuracy.
import { EXPORT_FORMATS, type ExportFormat } from '../../protocol/methods';
import { UserError } from '../../protocol/user-error';
import type { Arch } from '../../ofa/arch';
import { exportSubnet } from '../../pipeline';
import { parseFlags } from '../flags';

const USAGE =
  'usage: manta export <runDir> --arch <index of a front point | arch JSON {"ks":[…],"e":[…],"d":[…],"r":32,"w":1}> [--format tfjs|onnx] [--out dir]';

function parseFormatFlag(value: string | undefined): ExportFormat {
  if (value === undefined) return 'tfjs';
  if (!(EXPORT_FORMATS as readonly string[]).includes(value)) throw new UserError(`--format must be one of ${EXPORT_FORMATS.join(', ')}; got ${JSON.stringify(value)}`, 'cli.bad-format');
  return value as ExportFormat;
}

export function parseArchFlag(value: string): Arch | number {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  let arch: unknown;
  try {
    arch = JSON.parse(v);
  } catch {
    throw new UserError(`--arch must be a front index or an arch as JSON; got ${JSON.stringify(value.slice(0, 60))}`, 'cli.bad-arch');
  }
  if (typeof arch !== 'object' || arch === null || Array.isArray(arch)) throw new UserError('--arch JSON must be an object {ks, e, d, r, w}', 'cli.bad-arch');
  return arch as Arch;
}

export async function exportCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { arch: 'string', out: 'string', format: 'string', help: 'boolean' }, 'manta export');
  if (flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const runDir = flags._[0];
  if (!runDir || flags._.length !== 1 || typeof flags.arch !== 'string') {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const which = parseArchFlag(flags.arch);
  const format = parseFormatFlag(typeof flags.format === 'string' ? flags.format : undefined);
  const out = await exportSubnet(runDir, which, {
    format,
    outDir: typeof flags.out === 'string' ? flags.out : undefined,
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  process.stdout.write(
    `exported ${out.modelPath}\n` +
      `  MACs ${out.macs}, params ${out.params}, validation ${(out.validationAccuracy * 100).toFixed(1)}%, test ${(out.testAccuracy * 100).toFixed(1)}%\n` +
      `  arch ${JSON.stringify(out.arch)}\n`,
  );
  return 0;
}
