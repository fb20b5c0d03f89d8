// The whole runbook from an empty (emulated) AWS account, with the real CLI over HTTP: deploy.yml's
// --check lists every resource and creates none; a run builds the network, encrypted instances and
// the verified TLS + ACL cluster on them; a second run is changed=0.
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startLabAws, type LabAws } from '../../support/lab-aws.js';
import { rplayJson, tasksWith, totalChanged } from '../../support/rplay-cli.js';

const test = suite('deploy.yml from an empty emulated account');
const env = { AWS_ACCESS_KEY_ID: 'AKIDLAB', AWS_SECRET_ACCESS_KEY: 'not-checked' };
let aws: LabAws;
const deploy = (...extra: string[]) => rplayJson(['playbooks/deploy.yml', '-i', aws.inventory, ...extra], { env: { ...env, RPLAY_STATE_DIR: join(aws.work, 'state') } });

test.before(async () => {
  aws = await startLabAws({ hosts: 3, prefix: '127.0.15' });
});

test.after(async () => {
  await aws?.down();
});

test('--check on an empty account creates nothing', async () => {
  const r = await deploy('--check');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.ok(totalChanged(r.json) >= 8);
  assert.equal((await aws.ec2.describeVpcs({})).Vpcs ?? [], []);
  assert.equal((await aws.ec2.describeInstances({})).Reservations ?? [], []);
});

test('one command builds and verifies the encrypted cluster; the second run is changed=0', async () => {
  const first = await deploy();
  assert.is(first.code, 0, first.stdout.slice(-4000) + first.stderr);
  const nodes = ['redis-node-1a', 'redis-node-1b', 'redis-node-1c'];
  for (const n of nodes) assert.equal(tasksWith(first.json, n, 'failed'), [], n);
  assert.ok(tasksWith(first.json, 'redis-node-1a', 'ok').includes("The runbook's tests hold"));
  const volumes = (await aws.ec2.describeVolumes({})).Volumes ?? [];
  assert.is(volumes.length, 3);
  assert.ok(volumes.every((v) => v.Encrypted === true), 'every root volume encrypted at launch');

  const second = await deploy('--detailed-exitcode');
  assert.is(second.code, 0, JSON.stringify(second.json.stats));
});

test.run();
