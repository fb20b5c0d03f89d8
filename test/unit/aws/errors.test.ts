// What the user reads when EC2 cannot be used: the SDK's failures turned into what to set or do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { awsSettings } from '../../../modules/aws/module-args.js';
import { awsError } from '../../../modules/aws/errors.js';

const aws = { region: 'us-east-1', maxAttempts: 8 };
const emu = { region: 'us-east-1', endpoint: 'http://127.0.0.1:4577', maxAttempts: 8 };

test('no credentials; refused credentials; a forbidden action', () => {
  const none = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
  assert.match(awsError(none, 'DescribeVpcs', aws).message, /^DescribeVpcs: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY .*AWS_PROFILE/);
  const refused = Object.assign(new Error('AWS was not able to validate the provided access credentials'), { name: 'AuthFailure', Code: 'AuthFailure' });
  assert.match(awsError(refused, 'DescribeVpcs', aws).message, 'DescribeVpcs: AWS refused the credentials (AuthFailure: AWS was not able to validate');
  const denied = Object.assign(new Error('You are not authorized'), { name: 'UnauthorizedOperation' });
  assert.is(awsError(denied, 'RunInstances', aws).message, 'RunInstances: the credentials are not allowed to call RunInstances in region us-east-1 (UnauthorizedOperation): grant it in the IAM policy');
});

test('an unknown region (AWS has no endpoint for it); an endpoint that does not answer', () => {
  const dns = Object.assign(new Error('getaddrinfo ENOTFOUND ec2.us-esat-1.amazonaws.com'), { code: 'ENOTFOUND', hostname: 'ec2.us-esat-1.amazonaws.com' });
  assert.is(
    awsError(dns, 'DescribeVpcs', { ...aws, region: 'us-esat-1' }).message,
    "DescribeVpcs: unknown region 'us-esat-1' (ec2.us-esat-1.amazonaws.com does not resolve): set region to an AWS region such as us-east-1",
  );
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4577'), { code: 'ECONNREFUSED' });
  assert.is(
    awsError(refused, 'DescribeVpcs', emu).message,
    "DescribeVpcs: cannot reach EC2 for region us-east-1 at http://127.0.0.1:4577: ECONNREFUSED (the lab's emulator starts with `rplay lab up --ec2`)",
  );
});

test('EC2 error codes are kept in the message', () => {
  const e = Object.assign(new Error("The vpc ID 'vpc-1' does not exist"), { name: 'InvalidVpcID.NotFound', Code: 'InvalidVpcID.NotFound' });
  const mapped = awsError(e, 'CreateSubnet', aws);
  assert.is(mapped.message, "CreateSubnet: InvalidVpcID.NotFound: The vpc ID 'vpc-1' does not exist");
  assert.is(mapped.code, 'InvalidVpcID.NotFound');
});

test('the region: the task, else aws_region, else AWS_REGION; none is an error naming all three', () => {
  const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
  delete process.env.AWS_REGION;
  delete process.env.AWS_DEFAULT_REGION;
  try {
    assert.is(awsSettings({ region: 'eu-west-1' }, { aws_region: 'us-east-1' }).region, 'eu-west-1');
    assert.is(awsSettings({}, { aws_region: 'us-east-1' }).region, 'us-east-1');
    assert.throws(() => awsSettings({}, {}), /no AWS region: set region on the task, aws_region in the inventory \(group_vars\/all.yml\), or AWS_REGION/);
    process.env.AWS_REGION = 'us-west-2';
    assert.is(awsSettings({}, {}).region, 'us-west-2');
    assert.equal(awsSettings({}, { aws_endpoint_url: 'http://127.0.0.1:4577', aws_access_key: 'a', aws_secret_key: 'b' }), {
      region: 'us-west-2',
      endpointUrl: 'http://127.0.0.1:4577',
      accessKey: 'a',
      secretKey: 'b',
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
});

test.run();
