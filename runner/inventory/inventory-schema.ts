// Validates a parsed inventory file against Ansible's YAML inventory shape before anything reads it,
// so a typo (`hots:`) or a list where a mapping belongs is an error at its file:line:col, not a
// silently empty group.
import type { ErrorObject, ValidateFunction } from 'ajv';
// The playbook loader's ajv: one instance per process pays ajv's start-up cost once.
import { compile } from '../playbook/ajv.js';
import { InputError, positionOf, type SourcePos } from '../yaml/load.js';
import type { GroupDocument } from './inventory-document.js';

const schema = {
  definitions: {
    group: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        hosts: { type: ['object', 'null'], additionalProperties: { type: ['object', 'null'] } },
        children: { type: ['object', 'null'], additionalProperties: { $ref: '#/definitions/group' } },
        vars: { type: ['object', 'null'] },
      },
    },
  },
  // `all:` plus, as Ansible allows, other groups at the top level (children of all).
  type: ['object', 'null'],
  additionalProperties: { $ref: '#/definitions/group' },
};

let validate: ValidateFunction | undefined;

/** The file's top-level groups (`all` and any others), validated; throws InputError at the culprit. */
export function checkInventoryDocument(data: unknown, file: string): Record<string, GroupDocument | null> {
  validate ??= compile(schema);
  if (validate(data)) return (data ?? {}) as Record<string, GroupDocument | null>;
  const err = validate.errors?.[0];
  if (!err) throw new InputError('invalid inventory', file);
  throw describe(err, data, file);
}

function describe(err: ErrorObject, data: unknown, file: string): InputError {
  const path = err.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const where = (extraKey?: string): SourcePos | string => locate(data, extraKey ? [...path, extraKey] : path) ?? file;
  const dotted = path.join('.');
  if (err.keyword === 'additionalProperties') {
    const key = String((err.params as { additionalProperty: string }).additionalProperty);
    return new InputError(
      `${dotted ? dotted + ': ' : ''}unknown key '${key}' in a group (a group has hosts, children and vars)`,
      where(key),
    );
  }
  if (err.keyword === 'type') {
    const last = path.at(-1);
    const parent = path.at(-2);
    const what =
      path.length === 0
        ? 'an inventory must be a mapping of groups (all: …)'
        : parent === 'hosts'
          ? `host '${last}' must be a mapping of variables`
          : last === 'hosts'
            ? "'hosts' must be a mapping of host names (node-1: …), not a list"
            : last === 'vars'
              ? "'vars' must be a mapping"
              : `group '${last}' must be a mapping with hosts, children or vars`;
    return new InputError(`${dotted ? dotted + ': ' : ''}${what}`, where());
  }
  return new InputError(`${dotted}: ${err.message ?? 'invalid'}`, where());
}

/** Position of the key at the end of path (the value's own position when it has no key). */
function locate(data: unknown, path: string[]): SourcePos | undefined {
  let node = data;
  let found: SourcePos | undefined = node && typeof node === 'object' ? positionOf(node) : undefined;
  for (const key of path) {
    if (!node || typeof node !== 'object') break;
    found = positionOf(node, key) ?? found;
    node = (node as Record<string, unknown>)[key];
  }
  return found;
}
