// One EC2 client per region, endpoint and credentials, shared by every task of a run (one HTTP
// keep-alive pool), with rplay's error messages and the SDK's own retries for throttling.
import type { EC2 } from '@aws-sdk/client-ec2';
import { awsError, AwsError, type CallSite } from './errors.js';
import { loadEc2Sdk } from './sdk.js';

export interface AwsSettings {
  region: string;
  /**
   * An EC2-compatible endpoint (the lab's emulator). Unset: the SDK's own choice — AWS_ENDPOINT_URL_EC2,
   * AWS_ENDPOINT_URL, else AWS's regional endpoint.
   */
  endpointUrl?: string;
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  /** A profile of ~/.aws/config and ~/.aws/credentials. */
  profile?: string;
}

/**
 * Attempts per call, throttling (RequestLimitExceeded) included: the SDK retries with exponential
 * backoff and jitter. AWS_MAX_ATTEMPTS overrides it, as it does for every AWS SDK.
 */
export const DEFAULT_MAX_ATTEMPTS = 8;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export function maxAttempts(): number {
  const n = Number(process.env.AWS_MAX_ATTEMPTS);
  return Number.isInteger(n) && n >= 1 ? n : DEFAULT_MAX_ATTEMPTS;
}

const clients = new Map<string, Promise<EC2>>();

/** The EC2 client for these settings (made once per process). */
export function ec2Client(s: AwsSettings): Promise<EC2> {
  if (!REGION.test(s.region)) {
    throw new AwsError(`'${s.region}' is not an AWS region name (like us-east-1 or eu-west-2): set region or aws_region to one`);
  }
  if ((s.accessKey === undefined) !== (s.secretKey === undefined)) {
    throw new AwsError('access_key and secret_key go together: give both or neither');
  }
  const key = JSON.stringify([s.region, s.endpointUrl, s.accessKey, s.secretKey, s.sessionToken, s.profile, maxAttempts()]);
  let client = clients.get(key);
  if (client === undefined) {
    client = makeClient(s);
    clients.set(key, client);
  }
  return client;
}

async function makeClient(s: AwsSettings): Promise<EC2> {
  const attempts = maxAttempts();
  const { EC2 } = loadEc2Sdk();
  const client = new EC2({
    region: s.region,
    maxAttempts: attempts,
    ...(s.endpointUrl === undefined ? {} : { endpoint: s.endpointUrl }),
    ...(s.profile === undefined ? {} : { profile: s.profile }),
    ...(s.accessKey === undefined || s.secretKey === undefined
      ? {}
      : { credentials: { accessKeyId: s.accessKey, secretAccessKey: s.secretKey, ...(s.sessionToken === undefined ? {} : { sessionToken: s.sessionToken }) } }),
  });
  const site: CallSite = { region: s.region, endpoint: s.endpointUrl ?? process.env.AWS_ENDPOINT_URL_EC2 ?? process.env.AWS_ENDPOINT_URL, maxAttempts: attempts };
  // Outermost step: sees each call's final error, after the retry middleware has given up.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (e) {
        throw awsError(e, String(context.commandName ?? 'EC2').replace(/Command$/, ''), site);
      }
    },
    { step: 'initialize', name: 'rplayAwsErrors', priority: 'high' },
  );
  return client;
}
