// DescribeImages over the region's public catalog (see catalog.ts).
import type { DescribeImagesRequest, DescribeImagesResult, Image } from '@aws-sdk/client-ec2';
import { imagesOf, type CatalogImage } from '../catalog.js';
import type { Ec2Context } from '../context.js';
import { Ec2Error } from '../ec2-error.js';
import { applyFilters } from '../filters.js';
import { page } from '../paging.js';

const OWNER_ALIASES: Record<string, string> = { '099720109477': 'canonical' };

function imageView(i: CatalogImage): Image {
  return {
    ImageId: i.id,
    ImageLocation: `${i.ownerId === '099720109477' ? 'amazon' : i.ownerId}/${i.name}`,
    State: 'available',
    OwnerId: i.ownerId,
    CreationDate: i.creationDate,
    Public: true,
    Architecture: i.architecture,
    ImageType: 'machine',
    Name: i.name,
    Description: i.description,
    RootDeviceType: 'ebs',
    RootDeviceName: '/dev/sda1',
    BlockDeviceMappings: [
      { DeviceName: '/dev/sda1', Ebs: { SnapshotId: i.rootSnapshotId, VolumeSize: i.rootSize, VolumeType: 'gp3', DeleteOnTermination: true, Encrypted: false } },
      { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' },
    ],
    VirtualizationType: 'hvm',
    Hypervisor: 'xen',
    EnaSupport: true,
    SriovNetSupport: 'simple',
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    BootMode: 'uefi-preferred',
  };
}

export function imageById(ctx: Ec2Context, id: string): CatalogImage {
  const image = imagesOf(ctx.regionName).find((i) => i.id === id);
  if (image === undefined) throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
  return image;
}

export function DescribeImages(ctx: Ec2Context, input: DescribeImagesRequest): DescribeImagesResult {
  let images = imagesOf(ctx.regionName);
  if (input.ImageIds?.length) images = input.ImageIds.map((id) => imageById(ctx, id));
  if (input.Owners?.length) {
    const owners = input.Owners;
    images = images.filter((i) => owners.includes(i.ownerId) || owners.includes(OWNER_ALIASES[i.ownerId] ?? '') || (owners.includes('self') && i.ownerId === ctx.runtime.account.accountId));
  }
  const matching = applyFilters(images, input.Filters, {
    name: (i) => [i.name],
    'image-id': (i) => [i.id],
    'owner-id': (i) => [i.ownerId],
    'owner-alias': (i) => [OWNER_ALIASES[i.ownerId]],
    architecture: (i) => [i.architecture],
    state: () => ['available'],
    'root-device-type': () => ['ebs'],
    'root-device-name': () => ['/dev/sda1'],
    'virtualization-type': () => ['hvm'],
    'image-type': () => ['machine'],
    'is-public': () => ['true'],
    description: (i) => [i.description],
    'block-device-mapping.volume-type': () => ['gp3'],
    'ena-support': () => ['true'],
  });
  const p = page(matching, input.MaxResults, input.NextToken);
  return { Images: p.items.map(imageView), NextToken: p.nextToken };
}
