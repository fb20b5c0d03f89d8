import type { EC2 } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import { CANONICAL_OWNER, findImage, UBUNTU_NOBLE_AMD64 } from './aws/ami.js';
import { ec2Client } from './aws/client.js';
import { held, made, makingCall, revealed, runEc2Operations, type Ec2Op, type Ec2Step, type HeldSettings, type Id } from './aws/ec2-operation.js';
import { AwsError } from './aws/errors.js';
import { findSecurityGroup, findSubnet } from './aws/lookup.js';
import { awsArgs, awsSettings, resourceArgs, sshWaitArgs } from './aws/module-args.js';
import { inPassing, instanceFacts, instancesNamed, sshWait, startCall, waitInstance, type InstanceFacts, type SshCheck } from './aws/resources.js';
import { createTagsFor, identityText, tagSpecifications, tagText, wantedTags } from './aws/tags.js';
import { defineModule, NotYetThere, type Change, type Plan, type Vars } from '../runner/types.js';

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

export interface LaunchTarget {
  subnet: { id: string; vpcId: string; az: string } | null;
  groupId: string | null;
  keyExists: boolean;
  image: { id: string; name: string; rootDevice: string } | null;
}

export interface InstanceActual {
  aws: HeldSettings;
  /** Instances with this Name (+ project) tag that are not terminated or shutting down. */
  instances: InstanceFacts[];
  /** What a launch needs; only gathered when there is no instance. */
  launch: LaunchTarget | null;
}

const DEFAULT_TYPE = 't2.micro';

function timeoutMs(args: InstanceArgs): number {
  return (args.wait_timeout ?? 600) * 1000;
}

function sshOf(args: InstanceArgs): SshCheck | null {
  return (args.wait_ssh ?? true) ? { address: args.ssh_address ?? 'public', port: args.ssh_port ?? 22 } : null;
}

/** The waits after a start or a launch: running, then SSH. */
function readyChanges(args: InstanceArgs, op: (steps: Ec2Step[]) => Ec2Op, id: Id, what: string, pending?: string): Change<Ec2Op>[] {
  const ssh = sshOf(args);
  // Waiting for an instance that was already on its way changes nothing of this task's.
  const waitOnly = pending === undefined ? {} : { waitOnly: true };
  return [
    { description: pending ?? `wait until ${what} is running`, op: op([waitInstance(id, 'running')]), ...waitOnly },
    ...(ssh === null ? [] : [{ description: `wait until SSH answers on port ${ssh.port} of its ${ssh.address} address`, op: op([sshWait(id, ssh)]), ...waitOnly }]),
  ];
}

function imageOf(args: InstanceArgs, launch: Pick<LaunchTarget, 'image'>): NonNullable<LaunchTarget['image']> {
  if (launch.image === null) {
    throw new AwsError(`no available AMI of owner ${args.ami_owner ?? CANONICAL_OWNER} is named like ${args.ami_name ?? UBUNTU_NOBLE_AMD64} in this region`);
  }
  return launch.image;
}

/** The RunInstances line the user reads (also what check mode says before the network exists). */
export function launchText(args: InstanceArgs, launch: LaunchTarget): string {
  const tags = wantedTags(args.name, args.project, args.tags);
  const { subnet, groupId } = launch;
  const image = imageOf(args, launch);
  const subnetText = subnet === null ? `${args.subnet} (not created yet)` : `${subnet.id} (${args.subnet}, ${subnet.az})`;
  const groupText = groupId ?? `${args.security_group} (not created yet)`;
  const keyText = launch.keyExists ? args.key_name : `${args.key_name} (not imported yet)`;
  const encryption = `root ${image.rootDevice} encrypted with ${args.kms_key_id ?? 'aws/ebs'}`;
  return `RunInstances ${args.instance_type ?? DEFAULT_TYPE} ${image.id} (${image.name}) subnet ${subnetText} security group ${groupText} key ${keyText}, ${encryption}, tags ${tagText(tags)}`;
}

function launchChanges(args: InstanceArgs, launch: LaunchTarget, op: (steps: Ec2Step[]) => Ec2Op): Change<Ec2Op>[] {
  const description = launchText(args, launch);
  const { subnet, groupId } = launch;
  const image = imageOf(args, launch);
  if (subnet === null) throw new AwsError(`subnet ${identityText(args.subnet, args.project)} does not exist: create it first (ec2_subnet)`);
  if (groupId === null) throw new AwsError(`security group ${args.security_group} does not exist in ${subnet.vpcId}: create it first (ec2_security_group)`);
  const params = {
    ImageId: image.id,
    // EC2 itself says when a type or volume type does not exist.
    InstanceType: args.instance_type ?? DEFAULT_TYPE,
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
          VolumeType: args.volume_type ?? 'gp3',
          ...(args.volume_size === undefined ? {} : { VolumeSize: args.volume_size }),
          DeleteOnTermination: true,
        },
      },
    ],
    TagSpecifications: tagSpecifications(['instance', 'volume'], wantedTags(args.name, args.project, args.tags)),
  };
  return [{ description, op: op([makingCall('RunInstances', params, { instance: 'Instances.0.InstanceId' })]) }, ...readyChanges(args, op, made('instance'), 'it')];
}

export function instancePlan(args: InstanceArgs, actual: InstanceActual): Plan<Ec2Op> {
  const { instances } = actual;
  const op = (steps: Ec2Step[]): Ec2Op => ({ kind: 'ec2', aws: revealed(actual.aws), timeoutMs: timeoutMs(args), steps });
  if (instances.length > 1) {
    // Which one is meant is for a person to say; terminating one silently could destroy data.
    throw new AwsError(
      `${instances.length} instances are named ${identityText(args.name, args.project)}: ${instances.map((i) => `${i.id} (${i.state})`).join(', ')}. Terminate or rename the extra one(s), then run again`,
    );
  }
  const [one] = instances;
  if (one === undefined) {
    if (actual.launch === null) throw new Error('internal: no launch target gathered');
    return { changes: launchChanges(args, actual.launch, op), replan: true };
  }
  const changes: Change<Ec2Op>[] = [];
  // Tags decide inventory groups (role=redis): a tag lost by hand is put back.
  const tagging = createTagsFor(one.id, wantedTags(args.name, args.project, args.tags), one.tags);
  if (tagging !== null) changes.push({ description: tagging.description, op: op([tagging.step]) });
  const passing = inPassing(one);
  if (passing?.until === 'running') {
    changes.push(...readyChanges(args, op, one.id, one.id, passing.description));
  } else if (passing !== null || one.state === 'stopped') {
    if (passing !== null) changes.push({ description: passing.description, op: op([waitInstance(one.id, 'stopped')]) });
    changes.push({ description: `StartInstances ${one.id} (stopped)`, op: op([startCall(one.id)]) }, ...readyChanges(args, op, one.id, one.id));
  } else if (one.state !== 'running') {
    throw new AwsError(`instance ${one.id} (${args.name}) is ${one.state}: run again once it has settled`);
  }
  return { changes, replan: changes.length > 0, msg: changes.length === 0 ? `instance ${one.id} is running` : undefined, result: resultOf(one) };
}

function resultOf(f: InstanceFacts | undefined): Vars {
  if (f === undefined) return {};
  return { instance_id: f.id, state: f.state, private_ip: f.privateIp ?? null, public_ip: f.publicIp ?? null, availability_zone: f.az };
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
    subnet: subnet === null || vpcId === undefined || subnet.SubnetId === undefined ? null : { id: subnet.SubnetId, vpcId, az: subnet.AvailabilityZone ?? '?' },
    groupId: group?.GroupId ?? null,
    keyExists: (keys.KeyPairs ?? []).length > 0,
    image: image === null || image.ImageId === undefined ? null : { id: image.ImageId, name: image.Name ?? '?', rootDevice: image.RootDeviceName ?? '/dev/sda1' },
  };
  // What a launch needs and earlier tasks make (ec2_subnet, ec2_security_group, ec2_key_pair).
  const absent = [
    ...(launch.subnet === null ? [`subnet ${identityText(args.subnet, args.project)}`] : []),
    ...(launch.subnet !== null && launch.groupId === null ? [`security group ${args.security_group}`] : []),
    ...(launch.keyExists ? [] : [`key pair ${args.key_name}`]),
  ];
  if (absent.length === 0) return launch;
  const would = [launchText(args, launch), 'wait until it is running', ...(sshOf(args) === null ? [] : ['wait until SSH answers'])].join('; ');
  const them = absent.length > 1 ? ['do', 'them'] : ['does', 'it'];
  throw new NotYetThere(`ec2_instance: launching ${args.name} needs ${absent.join(', ')}, which ${them[0]} not exist: create ${them[1]} first`, absent.join(', '), { would });
}

/**
 * Exactly one running instance per Name (+ project) tag, launched from the newest Ubuntu 24.04 LTS
 * image with its root volume encrypted by the configured KMS key; a stopped one is started. It waits
 * until the instance runs and SSH answers. Duplicates are an error naming them, never terminated.
 * An instance on its way (pending, stopping) is a state: the plan waits for it, gather never does.
 */
export const ec2Instance = defineModule({
  name: 'ec2_instance',
  schema,
  async gather(ctx, args): Promise<InstanceActual> {
    const aws = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(aws);
    const instances = await instancesNamed(ec2, args.name, args.project);
    return { aws: held(aws), instances, launch: instances.length === 0 ? await gatherLaunch(ec2, args) : null };
  },
  plan: instancePlan,
  async apply(ctx, ops) {
    const out = await runEc2Operations(ops, ctx.projectDir);
    const [last] = [...out.instances.values()].slice(-1);
    return last === undefined ? {} : { result: resultOf(instanceFacts(last)) };
  },
});
