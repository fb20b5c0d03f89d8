// Tags: validation, TagSpecifications on create, and CreateTags / DeleteTags / DescribeTags.
import type {
  CreateTagsRequest,
  DeleteTagsRequest,
  DescribeTagsRequest,
  DescribeTagsResult,
  TagDescription,
  TagSpecification,
  Tag as SdkTag,
} from '@aws-sdk/client-ec2';
import type { Tag } from './account.js';
import { Ec2Error } from './ec2-error.js';
import { applyFilters } from './filters.js';
import { page } from './paging.js';
import { findTaggable, KINDS, required } from './resources.js';
import type { Ec2Context } from './context.js';

const MAX_TAGS = 50;

function checkTag(t: SdkTag): Tag {
  const key = required(t.Key, 'Tag.Key');
  const value = t.Value ?? '';
  if (key.length > 128) throw new Ec2Error('InvalidParameterValue', `Tag key exceeds the maximum length of 128 characters`);
  if (value.length > 256) throw new Ec2Error('InvalidParameterValue', `Tag value exceeds the maximum length of 256 characters`);
  if (key.toLowerCase().startsWith('aws:')) throw new Ec2Error('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use`);
  return { Key: key, Value: value };
}

/** Sets tags on a record's tag list: a key already there gets the new value. */
export function mergeTags(target: Tag[], tags: readonly SdkTag[]): void {
  const checked = tags.map(checkTag);
  for (const t of checked) {
    const existing = target.find((x) => x.Key === t.Key);
    if (existing) existing.Value = t.Value;
    else target.push(t);
  }
  if (target.length > MAX_TAGS) throw new Ec2Error('TagLimitExceeded', `The maximum number of tags (${MAX_TAGS}) for a resource has been exceeded`);
}

/**
 * The tags a create call's TagSpecifications give a resource of `resourceType`. Specifications for a
 * type the call does not create are refused, as EC2 does.
 */
export function tagsFor(specs: readonly TagSpecification[] | undefined, resourceType: string, allowed: readonly string[] = [resourceType]): Tag[] {
  const tags: Tag[] = [];
  for (const spec of specs ?? []) {
    const type = required(spec.ResourceType, 'TagSpecification.ResourceType');
    if (!allowed.includes(type)) {
      throw new Ec2Error('InvalidParameterValue', `'${type}' is not a valid taggable resource type for this operation.`);
    }
    if (type === resourceType) mergeTags(tags, spec.Tags ?? []);
  }
  return tags;
}

export function sdkTags(tags: readonly Tag[]): SdkTag[] {
  return tags.map((t) => ({ Key: t.Key, Value: t.Value }));
}

export function tagValue(tags: readonly Tag[], key: string): string | undefined {
  return tags.find((t) => t.Key === key)?.Value;
}

export function CreateTags(ctx: Ec2Context, input: CreateTagsRequest): object {
  const ids = required(input.Resources, 'ResourceId');
  const tags = required(input.Tags, 'Tag');
  // All resources are checked before any is tagged: a failed call changes nothing.
  const targets = ids.map((id) => findTaggable(ctx.region, id));
  tags.forEach(checkTag);
  for (const t of targets) mergeTags(t.tags, tags);
  ctx.changed();
  return { Return: true };
}

export function DeleteTags(ctx: Ec2Context, input: DeleteTagsRequest): object {
  const ids = required(input.Resources, 'ResourceId');
  const targets = ids.map((id) => findTaggable(ctx.region, id));
  for (const t of targets) {
    const keep = t.tags.filter((x) => {
      if (input.Tags === undefined || input.Tags.length === 0) return false;
      // A tag given with a value removes the tag only when the value matches.
      return !input.Tags.some((d) => d.Key === x.Key && (d.Value === undefined || d.Value === x.Value));
    });
    t.tags.splice(0, t.tags.length, ...keep);
  }
  ctx.changed();
  return { Return: true };
}

export function DescribeTags(ctx: Ec2Context, input: DescribeTagsRequest): DescribeTagsResult {
  const all: TagDescription[] = [];
  for (const k of KINDS) {
    for (const [id, record] of Object.entries(ctx.region[k.collection])) {
      for (const t of (record as { tags: Tag[] }).tags) {
        all.push({ ResourceId: id, ResourceType: k.resourceType as TagDescription['ResourceType'], Key: t.Key, Value: t.Value });
      }
    }
  }
  const matching = applyFilters(all, input.Filters, {
    'resource-id': (t) => [t.ResourceId],
    'resource-type': (t) => [t.ResourceType],
    key: (t) => [t.Key],
    value: (t) => [t.Value],
  });
  const p = page(matching, input.MaxResults, input.NextToken);
  return { Tags: p.items, NextToken: p.nextToken };
}
