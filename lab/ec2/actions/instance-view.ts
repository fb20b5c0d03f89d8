// An instance record as DescribeInstances and RunInstances show it.
import type { Instance, InstanceState } from '@aws-sdk/client-ec2';
import type { InstanceRecord, InstanceStateName } from '../account.js';
import type { Ec2Context } from '../context.js';
import { volumesOf } from '../lifecycle/instances.js';
import { sdkTags } from '../tags.js';

const STATE_CODES: Record<InstanceStateName, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };

export function stateOf(name: InstanceStateName): InstanceState {
  return { Code: STATE_CODES[name], Name: name };
}

export function privateDnsName(region: string, address: string): string {
  const host = `ip-${address.replace(/\./g, '-')}`;
  return region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

export function publicDnsName(region: string, address: string): string {
  const host = `ec2-${address.replace(/\./g, '-')}`;
  return region === 'us-east-1' ? `${host}.compute-1.amazonaws.com` : `${host}.${region}.compute.amazonaws.com`;
}

/** A MAC address derived from the interface id, stable across restarts. */
function macOf(eniId: string): string {
  return `0e:${eniId.slice(4, 14).match(/../g)!.join(':')}`;
}

export function instanceView(ctx: Ec2Context, i: InstanceRecord): Instance {
  const region = ctx.regionName;
  const groups = i.securityGroupIds.map((id) => ({ GroupId: id, GroupName: ctx.region.securityGroups[id]?.name }));
  const terminated = i.state === 'terminated';
  const publicIp = i.publicIp ?? undefined;
  const association = publicIp === undefined ? undefined : { PublicIp: publicIp, PublicDnsName: publicDnsName(region, publicIp), IpOwnerId: 'amazon' };
  const launched = new Date(i.launchedAt);
  return {
    InstanceId: i.id,
    ImageId: i.imageId,
    State: stateOf(i.state),
    PrivateDnsName: terminated ? '' : privateDnsName(region, i.privateIp),
    PublicDnsName: publicIp === undefined ? '' : publicDnsName(region, publicIp),
    StateTransitionReason: i.transitionReason,
    KeyName: i.keyName ?? undefined,
    AmiLaunchIndex: i.launchIndex,
    ProductCodes: [],
    InstanceType: i.type as Instance['InstanceType'],
    LaunchTime: launched,
    Placement: { AvailabilityZone: i.az, GroupName: '', Tenancy: 'default' },
    Monitoring: { State: 'disabled' },
    SubnetId: terminated ? undefined : i.subnetId,
    VpcId: terminated ? undefined : i.vpcId,
    PrivateIpAddress: terminated ? undefined : i.privateIp,
    PublicIpAddress: publicIp,
    Architecture: i.architecture,
    RootDeviceType: 'ebs',
    RootDeviceName: i.rootDeviceName,
    BlockDeviceMappings: volumesOf(ctx.region, i)
      .sort((a, b) => (a.attachment!.device < b.attachment!.device ? -1 : 1))
      .map((v) => ({
        DeviceName: v.attachment!.device,
        Ebs: { VolumeId: v.id, Status: v.attachment!.state, AttachTime: new Date(v.attachment!.attachedAt), DeleteOnTermination: v.attachment!.deleteOnTermination },
      })),
    VirtualizationType: 'hvm',
    ClientToken: i.clientToken ?? '',
    Tags: sdkTags(i.tags),
    SecurityGroups: terminated ? [] : groups,
    SourceDestCheck: true,
    Hypervisor: 'xen',
    NetworkInterfaces: terminated
      ? []
      : [
          {
            NetworkInterfaceId: i.networkInterfaceId,
            SubnetId: i.subnetId,
            VpcId: i.vpcId,
            OwnerId: ctx.runtime.account.accountId,
            Status: 'in-use',
            MacAddress: macOf(i.networkInterfaceId),
            PrivateIpAddress: i.privateIp,
            PrivateDnsName: privateDnsName(region, i.privateIp),
            SourceDestCheck: true,
            Groups: groups,
            Attachment: { AttachmentId: `eni-attach-${i.networkInterfaceId.slice(4)}`, DeviceIndex: 0, NetworkCardIndex: 0, Status: 'attached', AttachTime: launched, DeleteOnTermination: true },
            Association: association,
            PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: i.privateIp, PrivateDnsName: privateDnsName(region, i.privateIp), Association: association }],
            Ipv6Addresses: [],
            InterfaceType: 'interface',
          },
        ],
    EbsOptimized: false,
    EnaSupport: true,
    StateReason: i.stateReason === null ? undefined : { Code: i.stateReason.code, Message: i.stateReason.message },
    CpuOptions: { CoreCount: 1, ThreadsPerCore: 1 },
    CapacityReservationSpecification: { CapacityReservationPreference: 'open' },
    HibernationOptions: { Configured: false },
    MetadataOptions: { State: 'applied', HttpTokens: 'required', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled', HttpProtocolIpv6: 'disabled', InstanceMetadataTags: 'disabled' },
    EnclaveOptions: { Enabled: false },
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    UsageOperationUpdateTime: launched,
    PrivateDnsNameOptions: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
    MaintenanceOptions: { AutoRecovery: 'default' },
    CurrentInstanceBootMode: 'legacy-bios',
  };
}
