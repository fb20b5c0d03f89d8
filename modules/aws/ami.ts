// The image instances start from: Canonical's newest Ubuntu 24.04 LTS for amd64, found by owner and
// name (an AMI id differs per region and every few weeks, so it is never written down). The owner
// matters: anyone can publish an image with a look-alike name.
import type { EC2, Image } from '@aws-sdk/client-ec2';
import { RE2JS } from 're2js';

/** Canonical's AWS account, which publishes the official Ubuntu images. */
export const CANONICAL_OWNER = '099720109477';
/** Ubuntu 24.04 LTS (noble), amd64, EBS-backed (hvm-ssd and hvm-ssd-gp3 both match). */
export const UBUNTU_NOBLE_AMD64 = 'ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-amd64-server-*';

/** EC2's filter wildcards: * any run of characters, ? one character (RE2: the pattern may come from a playbook). */
export function globMatches(pattern: string, name: string): boolean {
  const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return RE2JS.compile(`^${body}$`, RE2JS.DOTALL).matches(name);
}

/** The newest available image of `owner` whose name matches; null when none does. */
export function newestImage(images: readonly Image[], owner: string, namePattern: string): Image | null {
  const fits = images.filter((i) => i.OwnerId === owner && i.State === 'available' && globMatches(namePattern, i.Name ?? ''));
  fits.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? '') || (b.Name ?? '').localeCompare(a.Name ?? ''));
  return fits[0] ?? null;
}

export async function findImage(ec2: EC2, owner: string, namePattern: string): Promise<Image | null> {
  const { Images = [] } = await ec2.describeImages({
    Owners: [owner],
    Filters: [
      { Name: 'name', Values: [namePattern] },
      { Name: 'state', Values: ['available'] },
    ],
  });
  return newestImage(Images, owner, namePattern);
}
