// `manta bench <suite>`: runs one benchmark suite through the harness (daemon/cli/bench/).
import { BenchUnavailable, formatTable, parseBenchArgs } from '../bench';
import { suites } from '../bench/suites';

export async function benchCommand(argv: string[]): Promise<number> {
  const { suite, opts } = parseBenchArgs(argv);
  const names = Object.keys(suites).join(', ');
  if (!suite || !suites[suite]) {
    process.stderr.write(`manta bench: name a suite: ${names}\n`);
    return 2;
  }
  const s = await suites[suite]();
  const log = (line: string) => process.stderr.write(line + '\n');
  try {
    const rows = await s.run(opts, log);
    process.stdout.write(opts.json ? rows.map((r) => JSON.stringify(r)).join('\n') + '\n' : formatTable(rows) + '\n');
    return 0;
  } catch (e) {
    if (e instanceof BenchUnavailable) {
      process.stderr.write(`manta bench ${suite}: cannot run here: ${e.message}\n`);
      return 3;
    }
    throw e;
  }
}
