import { randomUUID } from 'node:crypto';
import type { _InstanceType, EC2, Instance, VolumeType } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import { CANONICAL_OWNER, findImage, UBUNTU_NOBLE_AMD64 } from './aws/ami.js';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { invalidateInventoryCache, projectCacheDir } from './aws/inventory-cache.js';
import { findSecurityGroup, findSubnet } from './aws/lookup.js';
import { awsArgs, awsSettings, resourceArgs, sshWaitArgs } from './aws/module-args.js';
import { made, planOf, runSteps, type Step } from './aws/steps.js';
import { identityFilters, identityText, missingTags, sdkTags, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { poll, waitForSsh } from './aws/wait.js';
import { defineModule, NotYetThere, type Vars } from '../runner/types.js';

const schema = Type.Object(
  {
    ...resourceArgs,
    instance_type: Type.Optional(Type.String({ minLength: 1 })),
    /** The subnet's Name tag (same project): it decides the VPC and the availability zone. */
    subnet: Type.String({ minLength: 1 }),
    /** The security group's name, in the subnet's VPC. */
    security_group: Type.String({ minLength: 1 }),
    key_name: Type.String({ minLength: 1 }),
    /** An explicit AMI; default: the newest image of ami_owner named like ami_name. */
    image_id: Type.Optional(Type.String({ pattern: '^ami-[0-9a-f]+$' })),
    ami_owner: Type.Optional(Type.String({ minLength: 1 })),
    ami_name: Type.Optional(Type.String({ minLength: 1 })),
    /** The KMS key the root volume is encrypted with (key id, ARN or alias/…); default: aws/ebs. */
    kms_key_id: Type.Optional(Type.String({ minLength: 1 })),
    /** Root volume size in GiB; default: the image's. */
    volume_size: Type.Optional(Type.Integer({ minimum: 1 })),
    volume_type: Type.Optional(Type.String({ minLength: 1 })),
    /** wait_timeout default 600 s, for running and for SSH. */
    ...sshWaitArgs,
    ...awsArgs,
  },
  { additionalProperties: false },
);

type InstanceArgs = typeof schema.static;

export interface InstanceFacts {
  id: string;
  state: string;
  tags: TagMap;
  privateIp?: string;
  publicIp?: string;
  az?: string;
  stateReason?: string;
}

export interface LaunchTarget {
  subnet: { id: string; vpcId: string; az: string } | null;
  groupId: string | null;
  keyExists: boolean;
  image: { id: string; name: string; rootDevice: string } | null;
}

export interface InstanceActual {
  /** Instances with this Name (+ project) tag that are not terminated or shutting down. */
  instances: InstanceFacts[];
  /** What a launch needs; only gathered when there is no instance. */
  launch: LaunchTarget | null;
}

interface InstanceState {
  instance?: InstanceFacts;
}

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];
const DEFAULT_TYPE = 't2.micro';

function facts(i: Instance): InstanceFacts {
  return {
    id: i.InstanceId ?? '?',
    state: i.State?.Name ?? 'unknown',
    tags: tagMap(i.Tags),
    ...(i.PrivateIpAddress === undefined ? {} : { privateIp: i.PrivateIpAddress }),
    ...(i.PublicIpAddress === undefined ? {} : { publicIp: i.PublicIpAddress }),
    ...(i.Placement?.AvailabilityZone === undefined ? {} : { az: i.Placement.AvailabilityZone }),
    ...(i.StateReason?.Message === undefined ? {} : { stateReason: i.StateReason.Message }),
  };
}

async function describeOne(ec2: EC2, id: string): Promise<InstanceFacts> {
  const r = await ec2.describeInstances({ InstanceIds: [id] });
  const i = r.Reservations?.[0]?.Instances?.[0];
  if (i === undefined) throw new AwsError(`instance ${id} is not described by EC2`);
  return facts(i);
}

function timeoutMs(args: InstanceArgs): number {
  return (args.wait_timeout ?? 600) * 1000;
}

/** Polls until the instance leaves pending/stopping; a launch that ends terminated is an error with EC2's reason. */
async function settle(ec2: EC2, args: InstanceArgs, id: string, until: readonly string[]): Promise<InstanceFacts> {
  return poll(
    `instance ${id} (${args.name}) to be ${until.join(' or ')}`,
    async (seen) => {
      const f = await describeOne(ec2, id);
      seen.last = f.state;
      if (f.state === 'terminated' || f.state === 'shutting-down') {
        throw new AwsError(`instance ${id} (${args.name}) went ${f.state}${f.stateReason === undefined ? '' : `: ${f.stateReason}`}`);
      }
      return until.includes(f.state) ? f : null;
    },
    { timeoutMs: timeoutMs(args), firstDelayMs: 100, maxDelayMs: 5000 },
  );
}

function sshTarget(args: InstanceArgs, f: InstanceFacts): string {
  const address = (args.ssh_address ?? 'public') === 'public' ? (f.publicIp ?? f.privateIp) : f.privateIp;
  if (address === undefined) throw new AwsError(`instance ${f.id} (${args.name}) has no ${args.ssh_address ?? 'public'} address to check SSH on`);
  return address;
}

function readySteps(args: InstanceArgs, what: string): Step<InstanceState>[] {
  const port = args.ssh_port ?? 22;
  const steps: Step<InstanceState>[] = [
    {
      description: `wait until ${what} is running`,
      run: async (ec2, s) => void (s.instance = await settle(ec2, args, made(s.instance, 'the instance').id, ['running'])),
    },
  ];
  if (args.wait_ssh ?? true) {
    steps.push({
      description: `wait until SSH answers on port ${port} of its ${args.ssh_address ?? 'public'} address`,
      run: async (_ec2, s) => void (await waitForSsh(sshTarget(args, made(s.instance, 'the instance')), port, timeoutMs(args))),
    });
  }
  return steps;
}

function launchSteps(args: InstanceArgs, launch: LaunchTarget): Step<InstanceState>[] {
  const tags = wantedTags(args.name, args.project, args.tags);
  const type = args.instance_type ?? DEFAULT_TYPE;
  const { subnet, groupId, image } = launch;
  if (image === null) {
    throw new AwsError(`no available AMI of owner ${args.ami_owner ?? CANONICAL_OWNER} is named like ${args.ami_name ?? UBUNTU_NOBLE_AMD64} in this region`);
  }
  const subnetText = subnet === null ? `${args.subnet} (not created yet)` : `${subnet.id} (${args.subnet}, ${subnet.az})`;
  const groupText = groupId ?? `${args.security_group} (not created yet)`;
  const keyText = launch.keyExists ? args.key_name : `${args.key_name} (not imported yet)`;
  const encryption = `root ${image.rootDevice} encrypted with ${args.kms_key_id ?? 'aws/ebs'}`;
  const run: Step<InstanceState> = {
    description: `RunInstances ${type} ${image.id} (${image.name}) subnet ${subnetText} security group ${groupText} key ${keyText}, ${encryption}, tags ${tagText(tags)}`,
    async run(ec2, s) {
      if (subnet === null) throw new AwsError(`subnet ${identityText(args.subnet, args.project)} does not exist: create it first (ec2_subnet)`);
      if (groupId === null) throw new AwsError(`security group ${args.security_group} does not exist in ${subnet.vpcId}: create it first (ec2_security_group)`);
      const r = await ec2.runInstances({
        ImageId: image.id,
        // EC2 itself says when a type or volume type does not exist.
        InstanceType: type as _InstanceType,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet.id,
        SecurityGroupIds: [groupId],
        KeyName: args.key_name,
        BlockDeviceMappings: [
          {
            DeviceName: image.rootDevice,
            Ebs: {
              Encrypted: true,
              ...(args.kms_key_id === undefined ? {} : { KmsKeyId: args.kms_key_id }),
              VolumeType: (args.volume_type ?? 'gp3') as VolumeType,
              ...(args.volume_size === undefined ? {} : { VolumeSize: args.volume_size }),
              DeleteOnTermination: true,
            },
          },
        ],
        TagSpecifications: tagSpecifications(['instance', 'volume'], tags),
        // The SDK's retries (throttling) resend this token: EC2 then answers with the same instance.
        ClientToken: randomUUID(),
      });
      s.instance = facts(made(r.Instances?.[0], 'the new instance'));
    },
  };
  return [run, ...readySteps(args, 'it')];
}

export function instanceSteps(args: InstanceArgs, actual: InstanceActual): Step<InstanceState>[] {
  const { instances } = actual;
  if (instances.length > 1) {
    // Which one is meant is for a person to say; terminating one silently could destroy data.
    throw new AwsError(
      `${instances.length} instances are named ${identityText(args.name, args.project)}: ${instances.map((i) => `${i.id} (${i.state})`).join(', ')}. Terminate or rename the extra one(s), then run again`,
    );
  }
  const [one] = instances;
  if (one === undefined) return launchSteps(args, made(actual.launch ?? undefined, 'the launch target'));
  if (one.state !== 'running' && one.state !== 'stopped') throw new AwsError(`instance ${one.id} (${args.name}) is ${one.state}: run again once it has settled`);
  const steps: Step<InstanceState>[] = [];
  // Tags decide inventory groups (role=redis): a tag lost by hand is put back.
  const lacking = missingTags(wantedTags(args.name, args.project, args.tags), one.tags);
  if (Object.keys(lacking).length > 0) {
    steps.push({ description: `CreateTags ${one.id} ${tagText(lacking)}`, run: async (ec2) => void (await ec2.createTags({ Resources: [one.id], Tags: sdkTags(lacking) })) });
  }
  if (one.state === 'stopped') {
    steps.push({ description: `StartInstances ${one.id} (stopped)`, run: async (ec2) => void (await ec2.startInstances({ InstanceIds: [one.id] })) }, ...readySteps(args, one.id));
  }
  return steps;
}

function resultOf(f: InstanceFacts | undefined): Vars {
  if (f === undefined) return {};
  return { instance_id: f.id, state: f.state, private_ip: f.privateIp ?? null, public_ip: f.publicIp ?? null, availability_zone: f.az ?? null };
}

async function gatherLaunch(ec2: EC2, args: InstanceArgs): Promise<LaunchTarget> {
  const imageQuery = args.image_id !== undefined
    ? ec2.describeImages({ ImageIds: [args.image_id] }).then((r) => r.Images?.[0] ?? null)
    : findImage(ec2, args.ami_owner ?? CANONICAL_OWNER, args.ami_name ?? UBUNTU_NOBLE_AMD64);
  const [subnet, keys, image] = await Promise.all([
    findSubnet(ec2, { name: args.subnet, project: args.project }),
    ec2.describeKeyPairs({ Filters: [{ Name: 'key-name', Values: [args.key_name] }] }),
    imageQuery,
  ]);
  const vpcId = subnet?.VpcId;
  const group = vpcId === undefined ? null : await findSecurityGroup(ec2, args.security_group, vpcId);
  const launch: LaunchTarget = {
    subnet: subnet === null || vpcId === undefined ? null : { id: made(subnet.SubnetId, 'the subnet id'), vpcId, az: subnet.AvailabilityZone ?? '?' },
    groupId: group?.GroupId ?? null,
    keyExists: (keys.KeyPairs ?? []).length > 0,
    image: image === null ? null : { id: made(image.ImageId, 'the image id'), name: image.Name ?? '?', rootDevice: image.RootDeviceName ?? '/dev/sda1' },
  };
  // What a launch needs and earlier tasks make (ec2_subnet, ec2_security_group, ec2_key_pair).
  const absent = [
    ...(launch.subnet === null ? [`subnet ${identityText(args.subnet, args.project)}`] : []),
    ...(launch.subnet !== null && launch.groupId === null ? [`security group ${args.security_group}`] : []),
    ...(launch.keyExists ? [] : [`key pair ${args.key_name}`]),
  ];
  if (absent.length === 0) return launch;
  const would = launchSteps(args, launch).map((st) => st.description).join('; ');
  const them = absent.length > 1 ? ['do', 'them'] : ['does', 'it'];
  throw new NotYetThere(`ec2_instance: launching ${args.name} needs ${absent.join(', ')}, which ${them[0]} not exist: create ${them[1]} first`, absent.join(', '), { would });
}

/**
 * Exactly one running instance per Name (+ project) tag, launched from the newest Ubuntu 24.04 LTS
 * image with its root volume encrypted by the configured KMS key; a stopped one is started. It waits
 * until the instance runs and SSH answers. Duplicates are an error naming them, never terminated.
 */
export const ec2Instance = defineModule({
  name: 'ec2_instance',
  schema,
  async gather(ctx, args): Promise<InstanceActual> {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const r = await ec2.describeInstances({ Filters: [...identityFilters(args.name, args.project), { Name: 'instance-state-name', Values: LIVE_STATES }] });
    let instances = (r.Reservations ?? []).flatMap((res) => res.Instances ?? []).map(facts);
    // A state in passing (launching, stopping) is waited out: the plan is made from where it lands.
    if (instances.length === 1 && (instances[0].state === 'pending' || instances[0].state === 'stopping')) {
      instances = [await settle(ec2, args, instances[0].id, ['running', 'stopped'])];
    }
    return { instances, launch: instances.length === 0 ? await gatherLaunch(ec2, args) : null };
  },
  plan: (args, actual) => planOf(instanceSteps(args, actual), `instance ${actual.instances[0]?.id} is running`, resultOf(actual.instances[0])),
  async legacyApply(ctx, args, _plan, actual) {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const s = await runSteps(ec2, instanceSteps(args, actual), { instance: actual.instances[0] });
    // Addresses changed (a new instance, a start): a cached inventory would be stale.
    await invalidateInventoryCache(projectCacheDir(ctx.projectDir));
    return { result: resultOf(s.instance) };
  },
});
