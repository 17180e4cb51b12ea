// The plain logic behind the SSH parts of the extension: the connect notification's watchdog (a step longer than
// 20 s says "still <step> on <host> after N s") and upload increments, which errors stop reconnecting, parsing
// `user@host[:port]` and a coordinator address, where a config runs on a host and which missing data paths the
// workspace can upload, every host's placement in a job, and where fetched run files go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, sep } from 'node:path';
import { SshHostError } from '../../extension/hosts/ssh/types';
import { StepWatchdog, stillMessage, UploadIncrements } from '../../extension/ssh-ui/watchdog';
import {
  checkHostName,
  dataUploads,
  expandHome,
  fetchFolder,
  hostWorkDir,
  isRetryableSshError,
  jobPlacements,
  localRunFileName,
  mergeUploads,
  NOT_RETRYABLE_REASONS,
  parseCoordinator,
  parseUserHostPort,
  safeSegment,
} from '../../extension/ssh-ui/remote-plan';

test('the watchdog shows each step, and after 20 s of one step how long it has taken', () => {
  const w = new StepWatchdog();
  assert.equal(w.report({ host: 'gpu', step: 'connecting', message: 'connecting to gpu:22' }, 0), 'connecting to gpu:22');
  assert.equal(w.poll(20_000), undefined, 'not yet: exactly 20 s');
  assert.equal(w.poll(21_500), 'still connecting on gpu after 21 s — connecting to gpu:22');
  // a new step starts its own clock
  assert.equal(w.report({ host: 'gpu', step: 'authenticating', message: 'authenticating as me@gpu' }, 22_000), 'authenticating as me@gpu');
  assert.equal(w.poll(30_000), undefined);
  // reports of the same step keep its start: a slow upload says so even while bytes move
  w.report({ host: 'gpu', step: 'uploading', message: 'uploading the daemon (0.0 of 7.9 MB)' }, 40_000);
  assert.equal(w.report({ host: 'gpu', step: 'uploading', message: 'uploading the daemon (3.1 of 7.9 MB)' }, 65_000), 'still uploading on gpu after 25 s — uploading the daemon (3.1 of 7.9 MB)');
  assert.deepEqual(w.step, { step: 'uploading', host: 'gpu', since: 40_000 });
  assert.equal(stillMessage('probing', 'box', 61_999), 'still probing on box after 61 s');
  assert.equal(new StepWatchdog().poll(1e9), undefined, 'nothing reported, nothing to say');
});

test('upload increments fill the bar once, only forwards; a second upload continues from where it is', () => {
  const inc = new UploadIncrements();
  assert.equal(inc.next({ done: 0, total: 100 }), 0);
  assert.equal(inc.next({ done: 25, total: 100 }), 25);
  assert.equal(inc.next({ done: 20, total: 100 }), 0, 'never backwards');
  assert.equal(inc.next({ done: 100, total: 100 }), 75);
  assert.equal(inc.next({ done: 100, total: 100 }), 0);
  const two = new UploadIncrements();
  two.next({ done: 50, total: 200 }); // 25 %
  const a = two.next({ done: 10, total: 40 }); // another upload: 25 % of the remaining 75 %
  assert.ok(Math.abs(a - 18.75) < 1e-9, String(a));
  assert.equal(two.next({ done: 1, total: 0 }), 0);
});

test('reconnecting stops at errors only the user can fix', () => {
  for (const reason of NOT_RETRYABLE_REASONS) assert.equal(isRetryableSshError(new SshHostError('x', 'h', 'connecting', reason)), false, reason);
  assert.deepEqual(
    ['host-key-changed', 'host-key-unknown', 'host-key-revoked', 'auth', 'no-node', 'old-node', 'disk-full'].filter((r) => !NOT_RETRYABLE_REASONS.includes(r)),
    [],
  );
  assert.equal(isRetryableSshError(new SshHostError('x', 'h', 'connecting', 'unreachable')), true);
  assert.equal(isRetryableSshError(new SshHostError('x', 'h', 'connecting', 'timeout')), true);
  assert.equal(isRetryableSshError(new Error('the connection to the daemon closed')), true);
});

test('user@host[:port] and host names for Add SSH Host', () => {
  assert.deepEqual(parseUserHostPort('alice@gpu.example.org', 'me'), { user: 'alice', hostName: 'gpu.example.org', port: 22 });
  assert.deepEqual(parseUserHostPort(' gpu:2222 ', 'me'), { user: 'me', hostName: 'gpu', port: 2222 });
  assert.deepEqual(parseUserHostPort('bob@[fe80::1]:2200', 'me'), { user: 'bob', hostName: 'fe80::1', port: 2200 });
  assert.deepEqual(parseUserHostPort('fe80::1', 'me'), { user: 'me', hostName: 'fe80::1', port: 22 });
  assert.deepEqual(parseUserHostPort('a@b@10.0.0.2', 'me'), { user: 'a@b', hostName: '10.0.0.2', port: 22 });
  for (const bad of ['', 'a b', '@host', 'host:x', 'host:0', 'host:70000', 'u@', 'u@ho/st']) assert.ok('error' in parseUserHostPort(bad, 'me'), bad);
  assert.equal(checkHostName('gpu-box', ['Local (this machine)']), undefined);
  assert.match(checkHostName('gpu box', [])!, /only letters/);
  assert.match(checkHostName('gpu', ['gpu'])!, /already a host/);
  assert.match(checkHostName('  ', [])!, /give the host a name/);
});

test('a coordinator address: host, host:port, [v6]:port', () => {
  assert.deepEqual(parseCoordinator('10.0.0.1'), { host: '10.0.0.1', port: 29400 });
  assert.deepEqual(parseCoordinator('gpu-a.lan:29500'), { host: 'gpu-a.lan', port: 29500 });
  assert.deepEqual(parseCoordinator('[fd00::1]:29401'), { host: 'fd00::1', port: 29401 });
  for (const bad of ['', 'a b', 'h:0', 'h:99999', 'h:']) assert.ok('error' in parseCoordinator(bad), bad);
});

test('where a config runs on a host: workDir, else ~/manta/<workspace folder>, against the host home', () => {
  assert.equal(expandHome('~', '/home/a'), '/home/a');
  assert.equal(expandHome('~/x/y', '/home/a'), '/home/a/x/y');
  assert.equal(expandHome('/srv/x', '/home/a'), '/srv/x');
  assert.equal(hostWorkDir(undefined, 'my project', '/home/a'), '/home/a/manta/my project');
  assert.equal(hostWorkDir('  ', 'ws', '/home/a'), '/home/a/manta/ws');
  assert.equal(hostWorkDir('~/work/', 'ws', '/home/a'), '/home/a/work');
  assert.equal(hostWorkDir('/scratch/a/manta', 'ws', '/home/a'), '/scratch/a/manta');
  assert.equal(hostWorkDir('relative/dir', 'ws', '/home/a'), '/home/a/relative/dir');
  assert.equal(hostWorkDir(undefined, '../..', '/home/a'), '/home/a/manta/unnamed', 'a workspace name cannot climb out');
  assert.equal(safeSegment('a/b:c'), 'a-b-c');
});

test('missing relative data paths the workspace has become uploads to the same place under the config folder on the host', () => {
  const ws = join(sep, 'ws');
  const configDir = join(ws, 'configs');
  const present: Record<string, 'file' | 'dir'> = {
    [join(ws, 'data', 'train')]: 'dir',
    [join(ws, 'data', 'test')]: 'dir',
    [join(configDir, 'mnist', 'train-images')]: 'file',
    [join(configDir, 'mnist', 'train-labels')]: 'file',
    [join(sep, 'elsewhere', 'data')]: 'dir',
  };
  const config = {
    data: { kind: 'folder', train: '../data/train', test: '../data/test', extra: '/abs/path', far: '../../elsewhere/data', gone: 'nothere', images: 'mnist/train-images', labels: 'mnist/train-labels' },
  };
  const problem = (p: string, rule = 'exists') => ({ path: p, rule, message: `${p} does not exist` });
  const problems = [
    problem('/data/train'),
    problem('/data/test'),
    problem('/data/extra'), // absolute: a path on the host, nothing to upload
    problem('/data/far'), // outside the workspace
    problem('/data/gone'), // not here either
    problem('/data/images'),
    problem('/data/labels'),
    problem('/output/runsDir', 'writable'),
    problem('/supernet/units', 'exists'),
  ];
  const uploads = dataUploads(problems, config, { configDir, workspaceDir: ws, kind: (p) => present[p] }, '/home/a/manta/ws');
  assert.deepEqual(
    uploads.map((u) => [u.pointer, u.localDir, u.remoteDir, u.file]),
    [
      ['/data/train', join(ws, 'data', 'train'), '/home/a/manta/data/train', undefined],
      ['/data/test', join(ws, 'data', 'test'), '/home/a/manta/data/test', undefined],
      ['/data/images', join(configDir, 'mnist'), '/home/a/manta/ws/mnist', 'train-images'],
      ['/data/labels', join(configDir, 'mnist'), '/home/a/manta/ws/mnist', 'train-labels'],
    ],
  );
  // files of one folder go in one upload of those files; a folder goes whole
  const merged = mergeUploads(uploads);
  assert.deepEqual(
    merged.map((m) => [m.remoteDir, m.files]),
    [
      ['/home/a/manta/data/train', undefined],
      ['/home/a/manta/data/test', undefined],
      ['/home/a/manta/ws/mnist', ['train-images', 'train-labels']],
    ],
  );
  assert.deepEqual(dataUploads([], config, { configDir, workspaceDir: ws, kind: () => 'dir' }, '/x'), []);
});

test('every host of a job gets the same hosts, coordinator, workers and token, and its own index', () => {
  const token = 'ab'.repeat(32);
  const p = jobPlacements({ hosts: ['gpu-a', 'gpu-b', 'gpu-c'], coordinator: '10.0.0.1', port: 29400, workersPerHost: 2, token });
  assert.equal(p.length, 3);
  p.forEach((x, i) => {
    assert.equal(x.hostIndex, i);
    assert.deepEqual(x.hosts, ['gpu-a', 'gpu-b', 'gpu-c']);
    assert.deepEqual(x.coordinator, { host: '10.0.0.1', port: 29400 });
    assert.equal(x.workersPerHost, 2);
    assert.equal(x.token, token);
    assert.equal(x.bindAddress, '0.0.0.0');
  });
});

test('fetched run files: <workspace>/manta-runs/<host>/<run>/ with the files named as in the run folder', () => {
  assert.deepEqual(fetchFolder('gpu', 'tiny-search'), ['manta-runs', 'gpu', 'tiny-search']);
  assert.deepEqual(fetchFolder('../x', '..'), ['manta-runs', 'x', 'unnamed']);
  assert.equal(localRunFileName('results'), 'results.json');
  assert.equal(localRunFileName('report'), 'report.html');
  assert.equal(localRunFileName('measurements'), 'measurements.json');
  assert.equal(localRunFileName('config'), 'config.json');
  assert.equal(localRunFileName('subnets/subnet-0/model.json'), 'subnets/subnet-0/model.json');
  assert.equal(localRunFileName('subnets/../x'), 'subnets/unnamed/x');
});
