// What every ec2_* module takes besides its own arguments: where EC2 is (region, endpoint, the
// credentials) and which resource it is about (its Name tag and project tag). Region and endpoint
// default to the inventory's aws_region / aws_endpoint_url, so playbooks need not repeat them.
import { Type, type Static } from '@sinclair/typebox';
import type { Vars } from '../../runner/types.js';
import type { AwsSettings } from './client.js';
import { AwsError } from './errors.js';

export const awsArgs = {
  /** Default: the aws_region variable, else AWS_REGION / AWS_DEFAULT_REGION. */
  region: Type.Optional(Type.String({ minLength: 1 })),
  /** Default: the aws_endpoint_url variable, else the SDK's own (AWS_ENDPOINT_URL_EC2, else AWS). */
  endpoint_url: Type.Optional(Type.String()),
  access_key: Type.Optional(Type.String({ minLength: 1 })),
  secret_key: Type.Optional(Type.String({ minLength: 1 })),
  session_token: Type.Optional(Type.String({ minLength: 1 })),
  profile: Type.Optional(Type.String({ minLength: 1 })),
};

const AwsArgsSchema = Type.Object(awsArgs);
export type AwsArgs = Static<typeof AwsArgsSchema>;

/** The Name tag and project tag that identify a resource, and further tags it must carry. */
export const resourceArgs = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  /** The project tag (project=redis-lab): part of the resource's identity. */
  project: Type.Optional(Type.String({ minLength: 1 })),
  /** More tags the resource must carry (set when missing or different; others are left alone). */
  tags: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
};

function text(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function awsSettings(args: AwsArgs, vars: Readonly<Vars>): AwsSettings {
  const region = text(args.region) ?? text(vars.aws_region) ?? text(process.env.AWS_REGION) ?? text(process.env.AWS_DEFAULT_REGION);
  if (region === undefined) {
    throw new AwsError('no AWS region: set region on the task, aws_region in the inventory (group_vars/all.yml), or AWS_REGION');
  }
  const endpointUrl = text(args.endpoint_url) ?? text(vars.aws_endpoint_url);
  const accessKey = text(args.access_key) ?? text(vars.aws_access_key);
  const secretKey = text(args.secret_key) ?? text(vars.aws_secret_key);
  const sessionToken = text(args.session_token) ?? text(vars.aws_session_token);
  const profile = text(args.profile) ?? text(vars.aws_profile);
  return {
    region,
    ...(endpointUrl === undefined ? {} : { endpointUrl }),
    ...(accessKey === undefined ? {} : { accessKey }),
    ...(secretKey === undefined ? {} : { secretKey }),
    ...(sessionToken === undefined ? {} : { sessionToken }),
    ...(profile === undefined ? {} : { profile }),
  };
}

/** An IPv4 CIDR block as EC2 writes it (10.0.0.0/16). */
export const Cidr = Type.String({ pattern: '^(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}/(3[0-2]|[12]?\\d)$' });

/** How a module that starts an instance waits for it to be reachable (ec2_instance, ebs_encrypt). */
export const sshWaitArgs = {
  /** Wait until sshd answers on the instance's address (default true). */
  wait_ssh: Type.Optional(Type.Boolean()),
  /** The address SSH is checked on: the public one (what the inventory uses) or the private one. */
  ssh_address: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('private')])),
  ssh_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  /** Seconds each wait may take (the module's own default). */
  wait_timeout: Type.Optional(Type.Integer({ minimum: 1 })),
};
