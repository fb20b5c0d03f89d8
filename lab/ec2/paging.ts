// MaxResults / NextToken paging of the Describe actions. The token is opaque to callers; here it is the
// offset of the next item, so a page boundary survives items added at the end between calls.
import { Ec2Error } from './ec2-error.js';

export interface Page<T> {
  items: T[];
  nextToken: string | undefined;
}

export function page<T>(items: readonly T[], maxResults: number | undefined, nextToken: string | undefined, limits = { min: 5, max: 1000 }): Page<T> {
  let start = 0;
  if (nextToken !== undefined && nextToken !== '') {
    const decoded = /^o(\d+)$/.exec(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (decoded === null) throw new Ec2Error('InvalidParameterValue', `The value '${nextToken}' for parameter NextToken is invalid.`);
    start = Number(decoded[1]);
  }
  if (maxResults === undefined) return { items: items.slice(start), nextToken: undefined };
  if (!Number.isInteger(maxResults) || maxResults < limits.min || maxResults > limits.max) {
    throw new Ec2Error('InvalidParameterValue', `Value ( ${maxResults} ) for parameter maxResults is invalid. Parameter must be between ${limits.min} and ${limits.max}.`);
  }
  const end = start + maxResults;
  return {
    items: items.slice(start, end),
    nextToken: end < items.length ? Buffer.from(`o${end}`).toString('base64url') : undefined,
  };
}

/** EC2 refuses MaxResults together with an explicit list of ids. */
export function noPagingWithIds(ids: readonly string[] | undefined, maxResults: number | undefined, idsName: string): void {
  if (ids !== undefined && ids.length > 0 && maxResults !== undefined) {
    throw new Ec2Error('InvalidParameterCombination', `The parameter ${idsName} cannot be used with the parameter maxResults`);
  }
}
