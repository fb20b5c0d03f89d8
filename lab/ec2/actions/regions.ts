// The regions and zones the emulator serves, and each region's EBS encryption-by-default setting.
import type {
  DescribeAvailabilityZonesRequest,
  DescribeAvailabilityZonesResult,
  DescribeRegionsRequest,
  DescribeRegionsResult,
  DisableEbsEncryptionByDefaultRequest,
  DisableEbsEncryptionByDefaultResult,
  EnableEbsEncryptionByDefaultRequest,
  EnableEbsEncryptionByDefaultResult,
  GetEbsDefaultKmsKeyIdRequest,
  GetEbsDefaultKmsKeyIdResult,
  GetEbsEncryptionByDefaultRequest,
  GetEbsEncryptionByDefaultResult,
} from '@aws-sdk/client-ec2';
import { zonesOf } from '../catalog.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { applyFilters } from '../filters.js';

export function DescribeAvailabilityZones(ctx: Ec2Context, input: DescribeAvailabilityZonesRequest): DescribeAvailabilityZonesResult {
  let zones = zonesOf(ctx.regionName);
  const wanted = [...(input.ZoneNames ?? []), ...(input.ZoneIds ?? [])];
  const unknown = wanted.find((w) => !zones.some((z) => z.name === w || z.id === w));
  if (unknown !== undefined) throw new Ec2Error('InvalidParameterValue', `The zone '${unknown}' does not exist.`);
  if (wanted.length > 0) zones = zones.filter((z) => wanted.includes(z.name) || wanted.includes(z.id));
  const matching = applyFilters(zones, input.Filters, {
    'zone-name': (z) => [z.name],
    'zone-id': (z) => [z.id],
    state: () => ['available'],
    'region-name': () => [ctx.regionName],
    'zone-type': () => ['availability-zone'],
    'opt-in-status': () => ['opt-in-not-required'],
  });
  return {
    AvailabilityZones: matching.map((z) => ({
      ZoneName: z.name,
      ZoneId: z.id,
      State: 'available',
      RegionName: ctx.regionName,
      ZoneType: 'availability-zone',
      OptInStatus: 'opt-in-not-required',
      GroupName: ctx.regionName,
      NetworkBorderGroup: ctx.regionName,
      Messages: [],
    })),
  };
}

export function DescribeRegions(ctx: Ec2Context, input: DescribeRegionsRequest): DescribeRegionsResult {
  const served = Object.keys(ctx.runtime.account.regions);
  const unknown = input.RegionNames?.find((r) => !served.includes(r));
  if (unknown !== undefined) throw new Ec2Error('InvalidParameterValue', `Invalid region: ${unknown}`);
  const names = input.RegionNames?.length ? input.RegionNames : served;
  const matching = applyFilters(names, input.Filters, {
    'region-name': (r) => [r],
    endpoint: (r) => [`ec2.${r}.amazonaws.com`],
    'opt-in-status': () => ['opt-in-not-required'],
  });
  return { Regions: matching.map((r) => ({ RegionName: r, Endpoint: `ec2.${r}.amazonaws.com`, OptInStatus: 'opt-in-not-required' })) };
}

export function EnableEbsEncryptionByDefault(ctx: Ec2Context, _input: EnableEbsEncryptionByDefaultRequest): EnableEbsEncryptionByDefaultResult {
  ctx.region.ebsEncryptionByDefault = true;
  ctx.changed();
  return { EbsEncryptionByDefault: true };
}

export function DisableEbsEncryptionByDefault(ctx: Ec2Context, _input: DisableEbsEncryptionByDefaultRequest): DisableEbsEncryptionByDefaultResult {
  ctx.region.ebsEncryptionByDefault = false;
  ctx.changed();
  return { EbsEncryptionByDefault: false };
}

export function GetEbsEncryptionByDefault(ctx: Ec2Context, _input: GetEbsEncryptionByDefaultRequest): GetEbsEncryptionByDefaultResult {
  return { EbsEncryptionByDefault: ctx.region.ebsEncryptionByDefault, SseType: 'none' };
}

export function GetEbsDefaultKmsKeyId(ctx: Ec2Context, _input: GetEbsDefaultKmsKeyIdRequest): GetEbsDefaultKmsKeyIdResult {
  return { KmsKeyId: ctx.region.defaultKmsKeyId };
}
