// What went wrong talking to EC2, in words that say what to set or do: missing credentials, an
// unknown region, throttling that outlasted the retries, an endpoint that does not answer.

/** An EC2 call failed for a reason the user must act on; the message says how. */
export class AwsError extends Error {
  constructor(
    message: string,
    /** EC2's error code (InvalidVpcID.NotFound…), when EC2 answered. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'AwsError';
  }
}

/** Where a call went, for the messages. */
export interface CallSite {
  region: string;
  /** The endpoint override, when there is one. */
  endpoint?: string;
  maxAttempts: number;
}

const CREDENTIALS_HELP =
  'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or AWS_PROFILE ' +
  'naming a profile in ~/.aws/credentials, or the access_key/secret_key options';

const THROTTLING = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled', 'TooManyRequestsException']);
const BAD_CREDENTIALS = new Set(['AuthFailure', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'ExpiredToken', 'RequestExpired']);

interface SdkFailure {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  hostname?: string;
  $metadata?: { attempts?: number };
}

/** The SDK's error (or a network error under it) as an AwsError naming the action and what to do. */
export function awsError(e: unknown, action: string, site: CallSite): AwsError {
  if (e instanceof AwsError) return e;
  const f = (typeof e === 'object' && e !== null ? e : { message: String(e) }) as SdkFailure;
  const message = f.message ?? String(e);
  const code = f.Code ?? (typeof f.code === 'string' ? f.code : undefined) ?? f.name;
  const where = site.endpoint === undefined ? `region ${site.region}` : `region ${site.region} at ${site.endpoint}`;
  if (f.name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new AwsError(`${action}: no AWS credentials found: ${CREDENTIALS_HELP}`, 'CredentialsProviderError');
  }
  if (/Region is missing/i.test(message)) {
    return new AwsError(`${action}: no AWS region: set region (regions for the inventory), the aws_region variable, or AWS_REGION`);
  }
  if (code === 'AuthFailure' && /scoped to a valid region/i.test(message)) {
    return new AwsError(`${action}: ${where} is not served there: ${message}`, code);
  }
  if (code === 'ENOTFOUND' && site.endpoint === undefined) {
    return new AwsError(`${action}: unknown region '${site.region}' (${f.hostname ?? `ec2.${site.region}.amazonaws.com`} does not resolve): set region to an AWS region such as us-east-1`, code);
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET' || code === 'ETIMEDOUT') {
    const hint = site.endpoint === undefined ? '' : ' (the lab\'s emulator starts with `rplay lab up --ec2`)';
    return new AwsError(`${action}: cannot reach EC2 for ${where}: ${code}${hint}`, code);
  }
  if (code !== undefined && THROTTLING.has(code)) {
    const attempts = f.$metadata?.attempts ?? site.maxAttempts;
    return new AwsError(
      `${action}: EC2 is throttling requests (${code}) in ${where}; gave up after ${attempts} attempt(s) with backoff. ` +
        `Run again later, run fewer things against the account at once, or allow more attempts with AWS_MAX_ATTEMPTS (now ${site.maxAttempts})`,
      code,
    );
  }
  if (code === 'UnauthorizedOperation') {
    return new AwsError(`${action}: the credentials are not allowed to call ${action} in ${where} (UnauthorizedOperation): grant it in the IAM policy`, code);
  }
  if (code !== undefined && BAD_CREDENTIALS.has(code)) {
    return new AwsError(`${action}: AWS refused the credentials (${code}: ${message}): check them — ${CREDENTIALS_HELP}`, code);
  }
  return new AwsError(`${action}: ${code !== undefined && code !== 'Error' ? `${code}: ` : ''}${message}`, code);
}
