// ajv's errors as one sentence a user can act on: `apt.state must be one of present, absent, latest`,
// `apt: unknown key 'nme' (did you mean 'name'?)`, with the path to the culprit for its position.
import type { ErrorObject } from 'ajv';
import { didYouMean } from '../yaml/did-you-mean.js';

export interface SchemaProblem {
  /** Keys/indices from the validated value's root to the culprit (an unknown key itself). */
  path: (string | number)[];
  message: string;
}

type JsonSchema = Record<string, unknown>;

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  array: 'a list',
  object: 'a mapping',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'empty',
};

function orList(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

function typeWords(type: unknown): string {
  const types = Array.isArray(type) ? type.map(String) : [String(type)];
  return orList(types.map((t) => TYPE_WORDS[t] ?? t));
}

/** What one branch of anyOf/oneOf accepts, in words. */
function describeBranch(s: JsonSchema): string {
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(', ');
  if (s.type === 'array' && s.items && typeof s.items === 'object') {
    return `a list of ${describeBranch(s.items as JsonSchema).replace(/^an? /, '')}s`;
  }
  if (s.type !== undefined) return typeWords(s.type);
  if (Array.isArray(s.required)) return `with ${s.required.join(', ')}`;
  return 'a valid value';
}

function pathOf(err: ErrorObject): (string | number)[] {
  return err.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function dotted(subject: string, path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${p}`), subject);
}

function combinator(err: ErrorObject, path: (string | number)[], subject: string): string {
  const branches = (Array.isArray(err.schema) ? err.schema : []) as JsonSchema[];
  const where = dotted(subject, path);
  if (branches.length && branches.every((b) => Array.isArray(b.required) && Object.keys(b).every((k) => k === 'required'))) {
    const keys = branches.flatMap((b) => b.required as string[]);
    const passing = (err.params as { passingSchemas?: unknown }).passingSchemas;
    return Array.isArray(passing) ? `${where}: give only one of ${keys.join(', ')}` : `${where} needs one of ${keys.join(', ')}`;
  }
  if (branches.length && branches.every((b) => 'const' in b || Array.isArray(b.enum))) {
    const values = branches.flatMap((b) => ('const' in b ? [b.const] : (b.enum as unknown[])));
    return `${where} must be one of ${values.map(String).join(', ')}`;
  }
  return `${where} must be ${orList(branches.map(describeBranch))}`;
}

/**
 * The most useful problem among ajv's errors (ajv must run with `verbose: true`). `skip(path)` drops
 * errors about values that cannot be judged yet (templated ones).
 */
export function describeSchemaErrors(
  errors: readonly ErrorObject[],
  subject: string,
  skip: (path: (string | number)[], err: ErrorObject) => boolean = () => false,
): SchemaProblem | undefined {
  const combinators = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const isBranchNoise = (e: ErrorObject): boolean => combinators.some((c) => c !== e && e.schemaPath.startsWith(c.schemaPath + '/'));
  // An unknown key first (a misspelt key also makes the right one "missing"), a missing key last.
  const rank = (e: ErrorObject): number => (e.keyword === 'additionalProperties' ? 0 : e.keyword === 'required' ? 2 : 1);
  for (const err of [...errors].sort((a, b) => rank(a) - rank(b))) {
    const path = pathOf(err);
    if (isBranchNoise(err) || skip(path, err)) continue;
    const where = dotted(subject, path);
    const params = err.params as Record<string, unknown>;
    switch (err.keyword) {
      case 'additionalProperties': {
        const key = String(params.additionalProperty);
        const known = Object.keys((err.parentSchema?.properties as JsonSchema | undefined) ?? {});
        return { path: [...path, key], message: `${where}: unknown key '${key}'${didYouMean(key, known)}` };
      }
      case 'required': {
        const key = String(params.missingProperty);
        return { path, message: `${dotted(subject, [...path, key])} is required` };
      }
      case 'type':
        return { path, message: `${where} must be ${typeWords(params.type)}` };
      case 'enum':
        return { path, message: `${where} must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}` };
      case 'const':
        return { path, message: `${where} must be ${String(params.allowedValue)}` };
      case 'minLength':
      case 'minItems':
        if (params.limit === 1) return { path, message: `${where} must not be empty` };
        return { path, message: `${where} ${err.message ?? 'is too short'}` };
      case 'anyOf':
      case 'oneOf':
        return { path, message: combinator(err, path, subject) };
      default:
        return { path, message: `${where} ${err.message ?? 'is invalid'}` };
    }
  }
  return undefined;
}
