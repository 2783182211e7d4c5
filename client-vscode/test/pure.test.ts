// Unit tests of the extension's pure parts (no VS Code API): `npm run test:unit`
// (bundled by esbuild, run by node's own test runner).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Run } from '../src/runs/api';
import { ago, flagValue, headlineScalar, isDependencyFlag, parseFlagLine, userFlags, userLabel } from '../src/runs/format';
import { compareData } from '../src/webviews/compareData';

function run(id: string, extra: Partial<Run> = {}): Run {
  return {
    id, short_id: id.slice(0, 8), operation: 'train', model: '', op_name: 'train', status: 'completed',
    started: '2026-11-30T05:40:01Z', stopped: '2026-11-30T05:41:01Z', duration: 60, label: null, tags: [],
    flags: {}, exit_status: 0, kind: 'run', parent: null, steps: [], trials: [], scalars: {}, dir: `/runs/${id}`,
    project: '/p', guildfile: '/p/guild.yml', ...extra,
  };
}

test('parseFlagLine: NAME=VALUE words, quoted values, errors', () => {
  assert.deepEqual(parseFlagLine('epochs=2 lr=0.1'), { flags: { epochs: '2', lr: '0.1' } });
  assert.deepEqual(parseFlagLine('  msg="a b" x=\'c d\' y= '), { flags: { msg: 'a b', x: 'c d', y: '' } });
  assert.deepEqual(parseFlagLine('s="say \\"hi\\""'), { flags: { s: 'say "hi"' } });
  assert.deepEqual(parseFlagLine(''), { flags: {} });
  assert.deepEqual(parseFlagLine('epochs=2 oops'), { error: "'oops' is not NAME=VALUE" });
});

test('flagValue quotes what parseFlagLine would split', () => {
  for (const v of ['a b', '', 'x=y', 3, 0.5, true]) {
    const parsed = parseFlagLine(`f=${flagValue(v)}`);
    assert.ok('flags' in parsed);
    assert.equal(parsed.flags.f, String(v));
  }
});

test('userLabel hides the label Guild makes from the flags, keeps a user label', () => {
  const flags = { epochs: 2, lr: 0.1, 'operation:prepare-data': 'abc' };
  assert.equal(userLabel({ label: 'epochs=2 lr=0.1 operation:prepare-data=abc', flags }), '');
  assert.equal(userLabel({ label: 'baseline', flags }), 'baseline');
  assert.equal(userLabel({ label: '<img src=x onerror=alert(1)>', flags }), '<img src=x onerror=alert(1)>');
  assert.equal(userLabel({ label: null, flags }), '');
});

test('required-run flags are not user flags', () => {
  assert.ok(isDependencyFlag('operation:prepare-data'));
  assert.ok(!isDependencyFlag('lr'));
  assert.deepEqual(userFlags({ lr: 0.1, 'operation:train': 'x' }), { lr: 0.1 });
});

test('ago and headlineScalar', () => {
  const now = Date.parse('2026-11-30T06:00:00Z');
  assert.equal(ago('2026-11-30T05:59:50Z', now), 'just now');
  assert.equal(ago('2026-11-30T05:58:00Z', now), '2 min ago');
  assert.equal(ago('2026-11-30T03:00:00Z', now), '3 h ago');
  assert.equal(ago(null, now), '');
  assert.deepEqual(headlineScalar(run('a', { scalars: { accuracy: { last: 1, step: 0 }, loss: { last: 0.5, step: 3 } } })), ['loss', 0.5]);
  assert.equal(headlineScalar(run('a')), undefined);
});

test('compareData: a workflow row carries its steps\' flags and scalars', () => {
  const prep = run('p1', { op_name: 'prepare-data', operation: 'prepare-data', flags: { rows: 5 }, parent: 'w1' });
  const train = run('t1', { flags: { epochs: 3, lr: 0.1, 'operation:prepare-data': 'p1' }, scalars: { loss: { last: 0.1, step: 1 } }, parent: 'w1' });
  const test2 = run('s1', { op_name: 'test', operation: 'test', flags: { epochs: 9 }, scalars: { accuracy: { last: 1, step: 0 } }, parent: 'w1' });
  const wf = run('w1', { operation: 'end-to-end', op_name: 'end-to-end', kind: 'workflow', flags: { epochs: 3 }, steps: ['p1', 't1', 's1'] });
  const kids = (r: Run) => (r.id === 'w1' ? [prep, train, test2] : []);
  const d = compareData([wf], kids);
  assert.deepEqual(d.flagCols, ['epochs', 'lr', 'rows', 'test:epochs']);
  assert.deepEqual(d.scalarCols, ['accuracy', 'loss']);
  assert.deepEqual(d.rows[0].flags, { epochs: 3, lr: 0.1, rows: 5, 'test:epochs': 9 });
  assert.equal(d.rows[0].label, '');
});
