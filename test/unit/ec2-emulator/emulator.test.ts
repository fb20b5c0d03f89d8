// The emulator as an endpoint: EC2's wire format and error documents, throttling the SDK retries,
// regions from the signature, tags, and an account that survives a restart.
import {
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteTagsCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RunInstancesCommand,
  waitUntilInstanceRunning,
} from '@aws-sdk/client-ec2';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { failure, fast, nameTag, testEc2, type TestEc2 } from './client.js';
import { network } from './fixtures.js';

let t: TestEc2;
const scratch = mkdtempSync(join(tmpdir(), 'rplay-ec2-'));

test.before(async () => {
  t = await testEc2();
});
test.after(async () => {
  await t.close();
  rmSync(scratch, { recursive: true, force: true });
});

const SIGNED = { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00' };

async function post(body: string, headers: Record<string, string> = SIGNED): Promise<{ status: number; text: string }> {
  const r = await fetch(`${t.emu.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  return { status: r.status, text: await r.text() };
}

test("errors are EC2's error document with HTTP 400: unknown action, unimplemented action, misspelt parameter", async () => {
  const unknown = await post('Action=MakeCoffee&Version=2016-11-15');
  assert.is(unknown.status, 400);
  assert.match(unknown.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>InvalidAction<\/Code><Message>The action MakeCoffee is not valid for this web service.<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/);
  const unsupported = await post('Action=CreateNatGateway&Version=2016-11-15&SubnetId=subnet-1');
  assert.match(unsupported.text, /<Code>UnsupportedOperation<\/Code><Message>The rplay EC2 emulator does not implement CreateNatGateway.<\/Message>/);
  const misspelt = await post('Action=CreateVpc&Version=2016-11-15&CidrBlok=10.0.0.0%2F16');
  assert.match(misspelt.text, /<Code>UnknownParameter<\/Code><Message>The parameter CidrBlok is not recognized<\/Message>/);
  const missing = await post('Action=CreateVpc&Version=2016-11-15');
  assert.match(missing.text, /<Code>MissingParameter<\/Code><Message>The request must contain the parameter CidrBlock<\/Message>/);
  const unsigned = await post('Action=DescribeVpcs&Version=2016-11-15', {});
  assert.is(unsigned.status, 401);
  assert.match(unsigned.text, /<Code>AuthFailure<\/Code>/);
});

test('answers are XML in the EC2 namespace, with EC2 element names', async () => {
  const created = await post('Action=CreateVpc&Version=2016-11-15&CidrBlock=10.9.0.0%2F16&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=a%26b');
  assert.is(created.status, 200);
  assert.match(created.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<CreateVpcResponse xmlns="http:\/\/ec2.amazonaws.com\/doc\/2016-11-15\/"><requestId>[0-9a-f-]{36}<\/requestId><vpc>/);
  assert.match(created.text, /<tagSet><item><key>Name<\/key><value>a&amp;b<\/value><\/item><\/tagSet>/);
  assert.match(created.text, /<cidrBlock>10.9.0.0\/16<\/cidrBlock>/);
  const empty = await post('Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=nothing');
  assert.match(empty.text, /<reservationSet\/><\/DescribeInstancesResponse>$/);
});

test('throttling: RequestLimitExceeded (HTTP 503) on demand; the SDK retries it and succeeds', async () => {
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: t.emu.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, retryStrategy: new ConfiguredRetryStrategy(3, () => 5) });
  t.emu.throttle(2);
  const ok = await ec2.send(new DescribeVpcsCommand({}));
  assert.is(ok.$metadata.attempts, 3);
  // The admin hook does the same for a client outside this process.
  const admin = await fetch(`${t.emu.url}/_admin/throttle`, { method: 'POST', body: JSON.stringify({ count: 3 }) });
  assert.equal(await admin.json(), { throttled: 3 });
  const e = await failure(ec2.send(new DescribeVpcsCommand({})));
  assert.is(e.name, 'RequestLimitExceeded');
  assert.is(e.$metadata?.httpStatusCode, 503);
  assert.is(e.$metadata?.attempts, 3);
  assert.ok((await ec2.send(new DescribeVpcsCommand({}))).Vpcs);
  ec2.destroy();
});

test('each region is its own account part, chosen by the region the request is signed for', async () => {
  const east = t.client('us-east-1');
  const west = t.client('us-west-2');
  const vpc = (await east.send(new CreateVpcCommand({ CidrBlock: '10.7.0.0/16' }))).Vpc!;
  assert.is((await failure(west.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] })))).name, 'InvalidVpcID.NotFound');
  assert.equal((await west.send(new DescribeRegionsCommand({}))).Regions!.map((r) => r.RegionName), ['us-east-1', 'us-west-2']);
  const zones = (await west.send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones!;
  assert.equal(zones.map((z) => [z.ZoneName, z.State]), [['us-west-2a', 'available'], ['us-west-2b', 'available'], ['us-west-2c', 'available'], ['us-west-2d', 'available']]);
  const wrong = await failure(t.client('eu-west-9').send(new DescribeVpcsCommand({})));
  assert.is(wrong.name, 'AuthFailure');
  assert.match(wrong.message, /not 'eu-west-9'\. This endpoint serves: us-east-1, us-west-2/);
});

test('tags: added, replaced, removed, listed; a missing resource gets its kind of NotFound', async () => {
  const ec2 = t.client();
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.8.0.0/16', TagSpecifications: nameTag('vpc', 'tagged') }))).Vpc!;
  await ec2.send(new CreateTagsCommand({ Resources: [vpc.VpcId!], Tags: [{ Key: 'Name', Value: 'renamed' }, { Key: 'replaced-by', Value: 'vol-1' }] }));
  const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [vpc.VpcId!] }] }));
  assert.equal(tags.Tags!.map((x) => [x.Key, x.Value, x.ResourceType]), [['Name', 'renamed', 'vpc'], ['replaced-by', 'vol-1', 'vpc']]);
  await ec2.send(new DeleteTagsCommand({ Resources: [vpc.VpcId!], Tags: [{ Key: 'replaced-by', Value: 'other' }] }));
  assert.is((await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] }))).Vpcs![0].Tags!.length, 2, 'a value that does not match keeps the tag');
  await ec2.send(new DeleteTagsCommand({ Resources: [vpc.VpcId!], Tags: [{ Key: 'replaced-by' }] }));
  assert.equal((await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] }))).Vpcs![0].Tags, [{ Key: 'Name', Value: 'renamed' }]);
  assert.is((await failure(ec2.send(new CreateTagsCommand({ Resources: ['i-0123456789abcdef0'], Tags: [{ Key: 'a', Value: 'b' }] })))).name, 'InvalidInstanceID.NotFound');
  assert.is((await failure(ec2.send(new CreateTagsCommand({ Resources: [vpc.VpcId!], Tags: [{ Key: 'aws:x', Value: 'b' }] })))).name, 'InvalidParameterValue');
});

test('with a state file the account survives a restart, and an instance caught pending goes on to running', async () => {
  const stateFile = join(scratch, 'ec2', 'state.json');
  const first = await testEc2({ stateFile, delays: { instance: 60_000, snapshot: 0, volume: 0 } });
  const ec2 = first.client();
  const net = await network(ec2, '10.4');
  const [i] = (await ec2.send(new RunInstancesCommand({ ImageId: net.imageId, InstanceType: 't2.micro', MinCount: 1, MaxCount: 1, SubnetId: net.subnets.a, TagSpecifications: nameTag('instance', 'survivor') }))).Instances!;
  await first.close();
  const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { regions: Record<string, { instances: Record<string, { state: string }> }> };
  assert.is(saved.regions['us-east-1'].instances[i.InstanceId!].state, 'pending');

  const second = await testEc2({ stateFile });
  const again = second.client();
  assert.equal((await again.send(new DescribeVpcsCommand({ VpcIds: [net.vpcId] }))).Vpcs!.map((v) => v.CidrBlock), ['10.4.0.0/16']);
  await waitUntilInstanceRunning(fast(again), { InstanceIds: [i.InstanceId!] });
  const [back] = (await again.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['survivor'] }] }))).Reservations![0].Instances!;
  assert.equal([back.InstanceId, back.State!.Name, back.PrivateIpAddress], [i.InstanceId, 'running', i.PrivateIpAddress]);
  await second.close();
});

test.run();
