// The runtime guards of webview → extension messages (daemon/protocol/webview-guards.ts): every message the pages
// really send passes; malformed ones (wrong envelope, unknown method, wrong or missing params, extra keys, paths for
// file names, oversized lists) are refused with a reason naming the field, and nothing makes a check throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParetoPoint, TelemetryEvent } from '../../daemon/protocol';
import { webviewMessage, type MonitorCommands, type VisualizerCommands } from '../../daemon/protocol/webview';
import { checkWebviewCommand, MAX_SELECTED_RUNS, MONITOR_COMMAND_GUARDS, VISUALIZER_COMMAND_GUARDS } from '../../daemon/protocol/webview-guards';

const log: TelemetryEvent[] = readFileSync(join(__dirname, '../fixtures/extension/tiny-run.events.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as TelemetryEvent);

/** A Pareto point as the daemon announces it (from a real run's log), the monitor hands back on a click. */
function realPoint(): ParetoPoint {
  const e = log.find((x) => x.kind === 'pareto');
  assert.ok(e && e.kind === 'pareto' && e.data.points.length > 0, 'the fixture log has a Pareto front');
  return e.data.points[0];
}

/** What a page's postMessage delivers: a structured clone, i.e. plain JSON here. */
const wire = (m: unknown): unknown => JSON.parse(JSON.stringify(m));
const monitor = (m: unknown) => checkWebviewCommand(MONITOR_COMMAND_GUARDS, m);
const visualizer = (m: unknown) => checkWebviewCommand(VISUALIZER_COMMAND_GUARDS, m);
const reason = (r: { ok: boolean; reason?: string }) => (r.ok ? 'accepted' : r.reason);

test('every message the monitor and visualizer pages send passes its guard', () => {
  const good: unknown[] = [
    webviewMessage<MonitorCommands, 'core/ready'>('core/ready', {}),
    webviewMessage<MonitorCommands, 'monitor/selectRuns'>('monitor/selectRuns', { selected: [] }),
    webviewMessage<MonitorCommands, 'monitor/selectRuns'>('monitor/selectRuns', {
      selected: [
        { hostId: 'local', runId: 'tiny-20260101-000000' },
        { hostId: 'ssh:gpu1', runId: 'b' },
      ],
    }),
    webviewMessage<MonitorCommands, 'monitor/showSubnet'>('monitor/showSubnet', { runId: 'tiny-1', point: realPoint(), index: 0 }),
    webviewMessage<MonitorCommands, 'monitor/showSubnet'>('monitor/showSubnet', {
      runId: 'r',
      point: { arch: { ks: [3, 5], e: [3, 6], d: [1, 2], r: 32, w: 1 }, macs: 1e6, params: 2e4, latencyMs: 0.5, predictedAccuracy: 0.7, validationAccuracy: 0.69, testAccuracy: 0.68 },
      index: 3,
    }),
    webviewMessage<MonitorCommands, 'core/saveFile'>('core/saveFile', { suggestedName: 'loss.csv', encoding: 'utf8', content: 'step,loss\n1,2\n' }),
    webviewMessage<MonitorCommands, 'core/saveFile'>('core/saveFile', { suggestedName: 'loss.png', encoding: 'base64', content: Buffer.from([1, 2, 3, 250]).toString('base64') }),
  ];
  for (const m of good) assert.equal(reason(monitor(wire(m))), 'accepted', JSON.stringify(m).slice(0, 200));
  for (const m of [
    webviewMessage<VisualizerCommands, 'core/ready'>('core/ready', {}),
    webviewMessage<VisualizerCommands, 'visualizer/follow'>('visualizer/follow', { followTraining: false }),
    webviewMessage<VisualizerCommands, 'core/saveFile'>('core/saveFile', { suggestedName: 'tiny-supernet.svg', encoding: 'utf8', content: '<svg/>' }),
  ]) {
    assert.equal(reason(visualizer(wire(m))), 'accepted', JSON.stringify(m));
  }
  // The accepted message is the one given, typed.
  const ok = monitor(wire(webviewMessage<MonitorCommands, 'core/ready'>('core/ready', {}, 5)));
  assert.deepEqual(ok, { ok: true, message: { method: 'core/ready', params: {}, time: 5 } });
});

test('malformed messages are refused with the field that is wrong, never with an exception', () => {
  const time = 1;
  const point = realPoint();
  const cases: [unknown, RegExp][] = [
    [null, /not an object/],
    ['core/ready', /not an object/],
    [[{ method: 'core/ready' }], /not an object/],
    [{ params: {}, time }, /no method/],
    [{ method: 42, params: {}, time }, /no method/],
    [{ method: 'core/deleteEverything', params: {}, time }, /unknown method "core\/deleteEverything"/],
    [{ method: 'toString', params: {}, time }, /unknown method/],
    [{ method: '__proto__', params: {}, time }, /unknown method/],
    [{ method: 'visualizer/follow', params: { followTraining: true }, time }, /unknown method/], // the visualizer's, not the monitor's
    [{ method: 'core/ready', params: {} }, /message.time is missing/],
    [{ method: 'core/ready', params: {}, time: 'now' }, /message.time is not a finite number/],
    [{ method: 'core/ready', time }, /params is missing/],
    [{ method: 'core/ready', params: {}, time, extra: 1 }, /unknown property 'extra'/],
    [{ method: 'core/ready', params: { x: 1 }, time }, /params has an unknown property 'x'/],
    [{ method: 'monitor/selectRuns', params: {}, time }, /params.selected is missing/],
    [{ method: 'monitor/selectRuns', params: { selected: 'local/a' }, time }, /params.selected is not an array/],
    [{ method: 'monitor/selectRuns', params: { selected: [{ hostId: 'local', runId: 'a' }, { hostId: 'local' }] }, time }, /params.selected\[1\].runId is missing/],
    [{ method: 'monitor/selectRuns', params: { selected: [{ hostId: 'local', runId: 7 }] }, time }, /params.selected\[0\].runId is not a string/],
    [{ method: 'monitor/selectRuns', params: { selected: [{ hostId: 'local', runId: '' }] }, time }, /params.selected\[0\].runId is shorter/],
    [{ method: 'monitor/selectRuns', params: { selected: [{ hostId: 'local', runId: 'a', constructor: 1 }] }, time }, /unknown property 'constructor'/],
    [{ method: 'monitor/selectRuns', params: { selected: Array.from({ length: MAX_SELECTED_RUNS + 1 }, (_, i) => ({ hostId: 'local', runId: `r${i}` })) }, time }, /more than 64 items/],
    [{ method: 'monitor/showSubnet', params: { runId: 'a', point, index: -1 }, time }, /params.index is below 0/],
    [{ method: 'monitor/showSubnet', params: { runId: 'a', point, index: 0.5 }, time }, /params.index is not an integer/],
    [{ method: 'monitor/showSubnet', params: { runId: 'a', index: 0 }, time }, /params.point is missing/],
    [{ method: 'monitor/showSubnet', params: { runId: 'a', point: { ...point, macs: 'many' }, index: 0 }, time }, /params.point.macs is not a finite number/],
    [{ method: 'monitor/showSubnet', params: { runId: 'a', point: { ...point, arch: { ...point.arch, ks: [3, 'x'] } }, index: 0 }, time }, /params.point.arch.ks\[1\] is not a finite number/],
    [{ method: 'monitor/showSubnet', params: { runId: 'a', point: { ...point, arch: { ...point.arch, r: 1e9 } }, index: 0 }, time }, /params.point.arch.r is above 4096/],
    [{ method: 'monitor/showSubnet', params: { runId: 'a', point: { ...point, arch: { ...point.arch, d: [] } }, index: 0 }, time }, /params.point.arch.d has fewer than 1 items/],
    [{ method: 'core/saveFile', params: { suggestedName: '../../.bashrc', encoding: 'utf8', content: 'x' }, time }, /suggestedName is not a plain file name/],
    [{ method: 'core/saveFile', params: { suggestedName: '/etc/passwd', encoding: 'utf8', content: 'x' }, time }, /not a plain file name/],
    [{ method: 'core/saveFile', params: { suggestedName: '..', encoding: 'utf8', content: 'x' }, time }, /not a plain file name/],
    [{ method: 'core/saveFile', params: { suggestedName: 'a.png', encoding: 'hex', content: 'ff' }, time }, /encoding is not one of base64, utf8/],
    [{ method: 'core/saveFile', params: { suggestedName: 'a.png', encoding: 'base64', content: 'not base64!' }, time }, /content is not base64/],
    [{ method: 'core/saveFile', params: { suggestedName: 'a.png', encoding: 'utf8' }, time }, /content is missing/],
  ];
  for (const [m, why] of cases) {
    let r: ReturnType<typeof monitor> | undefined;
    assert.doesNotThrow(() => {
      r = monitor(m);
    });
    assert.equal(r!.ok, false, `refused: ${JSON.stringify(m)?.slice(0, 160)}`);
    assert.match(reason(r!)!, why, JSON.stringify(m)?.slice(0, 160));
  }
  assert.match(reason(visualizer({ method: 'visualizer/follow', params: { followTraining: 'yes' }, time }))!, /params.followTraining is not a boolean/);
  assert.match(reason(visualizer({ method: 'monitor/selectRuns', params: { selected: [] }, time }))!, /unknown method/);
});

test('a check never throws, whatever arrives', () => {
  const hostile: unknown[] = [
    undefined,
    0,
    Symbol('x'),
    () => 1,
    new Proxy({}, { ownKeys: () => { throw new Error('boom'); }, get: () => { throw new Error('boom'); } }),
    Object.create(null),
    { method: 'core/saveFile', params: new Proxy({}, { get: () => { throw new Error('boom'); } }), time: 1 },
    JSON.parse('{"method":"core/ready","params":{"__proto__":{"polluted":true}},"time":1}'),
  ];
  for (const h of hostile) {
    const r = checkWebviewCommand(MONITOR_COMMAND_GUARDS, h);
    assert.equal(r.ok, false);
  }
  assert.equal(({} as { polluted?: boolean }).polluted, undefined, 'no prototype was touched');
});
