// Tags as rplay uses them: a resource is found by its Name tag (and project tag), created with its
// tags in one call, and given the tags it lacks by one planned CreateTags call.
import type { Filter, ResourceType, Tag, TagSpecification } from '@aws-sdk/client-ec2';
import { call, type Ec2Step } from './ec2-operation.js';
import { AwsError } from './errors.js';

export type TagMap = Record<string, string>;

export function tagMap(tags: readonly Tag[] | undefined): TagMap {
  const out: TagMap = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** Name first, then project, then the rest, as the user reads them. */
export function wantedTags(name: string, project: string | undefined, extra: TagMap = {}): TagMap {
  return { ...extra, Name: name, ...(project === undefined ? {} : { project }) };
}

export function tagText(tags: TagMap): string {
  const keys = Object.keys(tags).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((k) => `${k}=${tags[k]}`).join(',');
}

function rank(key: string): number {
  return key === 'Name' ? 0 : key === 'project' ? 1 : 2;
}

/** The Describe filters that find a resource by its identity tags. */
export function identityFilters(name: string, project: string | undefined): Filter[] {
  return [{ Name: 'tag:Name', Values: [name] }, ...(project === undefined ? [] : [{ Name: 'tag:project', Values: [project] }])];
}

/** The wanted tags a resource lacks or has with another value. */
function missingTags(wanted: TagMap, actual: TagMap): TagMap {
  const out: TagMap = {};
  for (const [k, v] of Object.entries(wanted)) if (actual[k] !== v) out[k] = v;
  return out;
}

/**
 * The CreateTags call that gives resource `id` the wanted tags it lacks or has with another value
 * (other tags are left alone), with the line the user reads; null when it has them all.
 */
export function createTagsFor(id: string, wanted: TagMap, actual: TagMap): { description: string; step: Ec2Step } | null {
  const lacking = missingTags(wanted, actual);
  if (Object.keys(lacking).length === 0) return null;
  return { description: `CreateTags ${id} ${tagText(lacking)}`, step: call('CreateTags', { Resources: [id], Tags: sdkTags(lacking) }) };
}

export function sdkTags(tags: TagMap): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function tagSpecifications(types: readonly ResourceType[], tags: TagMap): TagSpecification[] {
  return types.map((ResourceType) => ({ ResourceType, Tags: sdkTags(tags) }));
}

/** "redis-vpc (project redis-lab)": how a resource is named in messages. */
export function identityText(name: string, project: string | undefined): string {
  return project === undefined ? name : `${name} (project ${project})`;
}

/**
 * The one resource with this identity, or null. Two are a mistake someone must resolve (rplay cannot
 * know which one is meant): an error naming both ids, never a silent pick.
 */
export function onlyOne<T>(kind: string, identity: string, found: readonly T[], idOf: (t: T) => string | undefined): T | null {
  if (found.length > 1) {
    const ids = found.map((f) => idOf(f) ?? '?').join(', ');
    throw new AwsError(`${found.length} ${kind}s are named ${identity}: ${ids}. Delete or rename the extra one(s), then run again`);
  }
  return found[0] ?? null;
}
