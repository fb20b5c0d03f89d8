// The whole runbook from an empty (emulated) AWS account, with the real CLI over HTTP: deploy.yml's
// --check lists every resource and creates none; a run builds the network, encrypted instances and
// the verified TLS + ACL cluster on them; a second run is changed=0.
import { EC2 } from '@aws-sdk/client-ec2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEc2Emulator, type Ec2Emulator } from '../../../runner/lab/ec2/emulator.js';
import { labHostProvider } from '../../../runner/lab/ec2/host-provider.js';
import { startLab, type Lab } from '../../lab-fixture.js';
import { copyLabAwsInventory } from '../../support/lab-aws.js';
import { rplayJson, tasksWith, totalChanged } from '../../support/rplay-cli.js';

const test = suite('deploy.yml from an empty emulated account');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const env = { AWS_ACCESS_KEY_ID: 'AKIDLAB', AWS_SECRET_ACCESS_KEY: 'not-checked' };
let lab: Lab;
let emu: Ec2Emulator;
let ec2: EC2;
let work: string;
let inventory: string;
const deploy = (...extra: string[]) => rplayJson(['playbooks/deploy.yml', '-i', inventory, ...extra], { env: { ...env, RPLAY_STATE_DIR: join(work, 'state') } });

test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'rplay-deploy-aws-'));
  lab = await startLab({ hosts: 3, prefix: '127.0.15' });
  emu = await startEc2Emulator({ stateFile: join(lab.dir, 'ec2', 'state.json'), hosts: labHostProvider(lab.dir) });
  ec2 = new EC2({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'AKIDLAB', secretAccessKey: 'not-checked' } });
  inventory = copyLabAwsInventory(work, emu.url, lab.dir);
});

test.after(async () => {
  ec2?.destroy();
  await emu?.close();
  await lab?.down();
  rmSync(work, { recursive: true, force: true });
});

test('--check on an empty account creates nothing', async () => {
  const r = await deploy('--check');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.ok(totalChanged(r.json) >= 8);
  assert.equal((await ec2.describeVpcs({})).Vpcs ?? [], []);
  assert.equal((await ec2.describeInstances({})).Reservations ?? [], []);
});

test('one command builds and verifies the encrypted cluster; the second run is changed=0', async () => {
  const first = await deploy();
  assert.is(first.code, 0, first.stdout.slice(-4000) + first.stderr);
  const nodes = ['redis-node-1a', 'redis-node-1b', 'redis-node-1c'];
  for (const n of nodes) assert.equal(tasksWith(first.json, n, 'failed'), [], n);
  assert.ok(tasksWith(first.json, 'redis-node-1a', 'ok').includes("The runbook's tests hold"));
  const volumes = (await ec2.describeVolumes({})).Volumes ?? [];
  assert.is(volumes.length, 3);
  assert.ok(volumes.every((v) => v.Encrypted === true), 'every root volume encrypted at launch');

  const second = await deploy('--detailed-exitcode');
  assert.is(second.code, 0, JSON.stringify(second.json.stats));
});

test.run();
