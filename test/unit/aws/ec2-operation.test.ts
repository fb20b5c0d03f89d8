// The EC2 operation runner against the in-memory emulator: a plan applied as data runs its calls and
// waits in order, later calls getting the ids earlier ones made; what a decoded plan may not do is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { call, made, runEc2Operations, type Ec2Op, type Ec2Step } from '../../../modules/aws/ec2-operation.js';
import { ec2Snapshot } from '../../../modules/ec2-snapshot.js';
import { tagMap } from '../../../modules/aws/tags.js';
import { overTheWire } from '../../support/converge.js';
import { CREDENTIALS, testAccount } from './support.js';

const settings = (url: string) => ({ region: 'us-east-1', endpointUrl: url, accessKey: CREDENTIALS.aws_access_key, secretKey: CREDENTIALS.aws_secret_key });
const op = (url: string, ...steps: Ec2Step[]): Ec2Op => ({ kind: 'ec2', aws: settings(url), timeoutMs: 10_000, steps });

test('calls, waits and made ids across operations, after encoding; the results filled in', async () => {
  const acct = await testAccount({ delays: { instance: 0, snapshot: 200, volume: 200 } });
  try {
    const ops = overTheWire([
      op(acct.emu.url, call('CreateVolume', { AvailabilityZone: 'us-east-1a', Size: 8, VolumeType: 'gp3' }, { volume: 'VolumeId' }), { do: 'wait-volume', id: made('volume'), until: 'available' }),
      { ...op(acct.emu.url, call('CreateTags', { Resources: [made('volume')], Tags: [{ Key: 'seen', Value: made('volume') }] })), result: { volume_id: made('volume') }, msg: ['made ', made('volume')] },
    ]) as Ec2Op[];
    const out = await runEc2Operations(ops, '/nonexistent');
    const id = out.made.volume!;
    const v = (await acct.ec2.describeVolumes({ VolumeIds: [id] })).Volumes![0]!;
    assert.equal([v.State, tagMap(v.Tags).seen, out.result.volume_id, out.msg], ['available', id, id, `made ${id}`]);
  } finally {
    await acct.close();
  }
});

test('an operation applied without the one that makes what it uses: refused before any call, saying so', async () => {
  const acct = await testAccount();
  try {
    const before = JSON.stringify(acct.emu.state);
    const lone = op(acct.emu.url, call('AttachVolume', { VolumeId: made('volume'), InstanceId: 'i-1', Device: '/dev/sda1' }));
    await runEc2Operations([lone], '/nonexistent').then(
      () => assert.unreachable(),
      (e: Error) => assert.is(e.message, 'this operation uses the volume an earlier operation of the plan makes, and that one was not applied'),
    );
    const foreign = { ...op(acct.emu.url), steps: [{ do: 'call', action: 'ModifyInstanceAttribute', params: { InstanceId: 'i-1' } }] } as unknown as Ec2Op;
    await runEc2Operations([foreign], '/nonexistent').then(
      () => assert.unreachable(),
      (e: Error) => assert.is(e.message, 'an operation calls ModifyInstanceAttribute, which no ec2_* module plans'),
    );
    assert.is(JSON.stringify(acct.emu.state), before, 'nothing was called');
  } finally {
    await acct.close();
  }
});

test('a wait bounded by the operation\'s timeout fails with what it last saw', async () => {
  const acct = await testAccount({ delays: { instance: 0, snapshot: 5000, volume: 0 } });
  try {
    const { VolumeId } = await acct.ec2.createVolume({ AvailabilityZone: 'us-east-1a', Size: 8 });
    const { SnapshotId } = await acct.ec2.createSnapshot({ VolumeId });
    const t0 = performance.now();
    const slow = { ...op(acct.emu.url, { do: 'wait-snapshots', ids: [SnapshotId!] }), timeoutMs: 600 };
    await runEc2Operations([slow], '/nonexistent').then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, new RegExp(`^timed out after 1 s waiting for snapshot\\(s\\) ${SnapshotId} to complete \\(last seen: ${SnapshotId} pending`)),
    );
    assert.ok(performance.now() - t0 < 2000);
  } finally {
    await acct.close();
  }
});

test('the credentials: held as Secrets in the gathered state (what a fingerprint or a report sees), real in the operations', async () => {
  const acct = await testAccount();
  try {
    const key = 'a-secret-access-key-of-the-test';
    const ctx = acct.ctx('/nonexistent', { aws_secret_key: key });
    const args = { instances: ['node-none'], label: 'x', source_region: 'us-east-1' };
    const actual = await ec2Snapshot.gather({ ...ctx, vars: { ...ctx.vars, aws_region: 'us-west-2' } }, args);
    assert.not.ok(JSON.stringify(actual).includes(key), 'the gathered state prints no secret');
    assert.ok(JSON.stringify(actual).includes('********'));
    const source = { id: 'snap-1', state: 'completed', startTime: '2024-06-01T00:00:00.000Z', of: 'node-none', device: '/dev/sda1', label: 'x', address: null, copiedFrom: null, project: null, encrypted: true, volumeSize: 8, tags: {} };
    const ops = ec2Snapshot.plan(args, { ...actual, sources: [source] }).changes.map((c) => c.op!);
    assert.equal(ops.map((o) => o.aws.secretKey), [key, key], 'EC2 gets the real value');
  } finally {
    await acct.close();
  }
});

test.run();
