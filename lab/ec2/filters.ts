// The Filters parameter of the Describe actions: every filter must match (AND), any of a filter's values
// may (OR); values take the * and ? wildcards. An unknown filter name is an error, as in EC2.
import type { Filter } from '@aws-sdk/client-ec2';
import { RE2JS } from 're2js';
import type { Tag } from './account.js';
import { Ec2Error } from './ec2-error.js';

/** For each filter name, the values a record has for it. */
export type FilterFields<T> = Record<string, (item: T) => readonly (string | number | boolean | null | undefined)[]>;

/** A filter value's wildcards on RE2 (linear time): the values come from playbooks. */
function pattern(value: string): RE2JS {
  const body = value.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return RE2JS.compile(`^${body}$`, RE2JS.DOTALL);
}

function tagField(name: string): ((tags: Tag[]) => string[]) | null {
  if (name.startsWith('tag:')) {
    const key = name.slice(4);
    return (tags) => tags.filter((t) => t.Key === key).map((t) => t.Value);
  }
  if (name === 'tag-key') return (tags) => tags.map((t) => t.Key);
  if (name === 'tag-value') return (tags) => tags.map((t) => t.Value);
  return null;
}

/** The items the filters let through, in their order. Items with `tags` also get tag:K, tag-key, tag-value. */
export function applyFilters<T>(items: readonly T[], filters: readonly Filter[] | undefined, fields: FilterFields<T>): T[] {
  if (filters === undefined || filters.length === 0) return [...items];
  const tests = filters.map((f) => {
    const name = f.Name ?? '';
    const tag = tagField(name);
    const field = tag === null ? fields[name] : (item: T) => tag((item as { tags?: Tag[] }).tags ?? []);
    if (field === undefined) throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
    const wanted = (f.Values ?? []).map(pattern);
    return (item: T) =>
      field(item).some((v) => v !== null && v !== undefined && wanted.some((w) => w.matches(String(v))));
  });
  return items.filter((item) => tests.every((t) => t(item)));
}
