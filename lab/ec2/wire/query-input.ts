// A request's form parameters (`Filter.1.Name=…&Filter.1.Value.1=…`) read back into the object the SDK
// serialised them from: the inverse of the SDK's EC2 Query serializer (member key = ec2QueryName, else the
// capitalised xmlName, else the member name; lists flattened as `Key.N`).
import type { NormalizedSchema } from '@smithy/core/schema';
import { Ec2Error } from '../ec2-error.js';

type QueryNode = string | { [key: string]: QueryNode };
export type QueryValue = string | number | boolean | Date | Uint8Array | QueryValue[] | { [key: string]: QueryValue };

/** Parameters that address the service, not the action's input. */
const ENVELOPE = new Set(['Action', 'Version']);

function insert(tree: { [key: string]: QueryNode }, key: string, value: string): void {
  const parts = key.split('.');
  let node = tree;
  parts.slice(0, -1).forEach((part, i) => {
    const next: QueryNode | undefined = node[part];
    if (typeof next === 'string') throw new Ec2Error('InvalidParameterValue', `The parameter ${key} conflicts with ${parts.slice(0, i + 1).join('.')}`);
    const child: { [key: string]: QueryNode } = next ?? {};
    node[part] = child;
    node = child;
  });
  node[parts[parts.length - 1]] = value;
}

function memberKey(name: string, member: NormalizedSchema): string {
  const traits = member.getMergedTraits();
  const ec2Name: unknown = traits.ec2QueryName;
  if (typeof ec2Name === 'string' && ec2Name !== '') return ec2Name;
  const key = traits.xmlName ?? name;
  return key[0].toUpperCase() + key.slice(1);
}

function scalar(schema: NormalizedSchema, text: string, path: string): QueryValue {
  if (schema.isBooleanSchema()) {
    if (text !== 'true' && text !== 'false') throw new Ec2Error('InvalidParameterValue', `Value (${text}) for parameter ${path} is invalid. Expected 'true' or 'false'.`);
    return text === 'true';
  }
  if (schema.isNumericSchema() || schema.isBigIntegerSchema()) {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new Ec2Error('InvalidParameterValue', `Value (${text}) for parameter ${path} is invalid. Expected a number.`);
    return n;
  }
  if (schema.isTimestampSchema()) {
    const d = new Date(/^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : text);
    if (Number.isNaN(d.getTime())) throw new Ec2Error('InvalidParameterValue', `Value (${text}) for parameter ${path} is invalid. Expected a timestamp.`);
    return d;
  }
  if (schema.isBlobSchema()) return new Uint8Array(Buffer.from(text, 'base64'));
  return text;
}

function read(schema: NormalizedSchema, node: QueryNode, path: string): QueryValue {
  if (schema.isListSchema()) {
    if (node === '') return []; // an empty list, as the SDK writes it when asked to
    if (typeof node === 'string') throw new Ec2Error('InvalidParameterValue', `The parameter ${path} is a list: expected ${path}.1, ${path}.2…`);
    const item = schema.getValueSchema();
    return Object.keys(node)
      .map((k) => {
        if (!/^[1-9]\d*$/.test(k)) throw new Ec2Error('UnknownParameter', `The parameter ${path}.${k} is not recognized`);
        return Number(k);
      })
      .sort((a, b) => a - b)
      .map((i) => read(item, node[String(i)], `${path}.${i}`));
  }
  if (schema.isStructSchema()) {
    if (typeof node === 'string') throw new Ec2Error('InvalidParameterValue', `The parameter ${path} is a structure: expected ${path}.<member>`);
    return readStruct(schema, node, `${path}.`);
  }
  if (typeof node !== 'string') throw new Ec2Error('UnknownParameter', `The parameter ${path}.${Object.keys(node)[0]} is not recognized`);
  return scalar(schema, node, path);
}

function readStruct(schema: NormalizedSchema, node: { [key: string]: QueryNode }, prefix: string): { [key: string]: QueryValue } {
  const out: { [key: string]: QueryValue } = {};
  const seen = new Set<string>();
  for (const [name, member] of schema.structIterator()) {
    const key = memberKey(name, member);
    const child = node[key];
    if (child === undefined) continue;
    seen.add(key);
    out[name] = read(member, child, prefix + key);
  }
  // As EC2 does: a misspelt parameter is an error, not silently ignored.
  const unknown = Object.keys(node).find((k) => !seen.has(k));
  if (unknown !== undefined) throw new Ec2Error('UnknownParameter', `The parameter ${prefix}${unknown} is not recognized`);
  return out;
}

/** The action's input object from its form parameters (Action and Version excluded). */
export function readQuery(input: NormalizedSchema, params: URLSearchParams): { [key: string]: QueryValue } {
  const tree: { [key: string]: QueryNode } = {};
  for (const [key, value] of params) {
    if (!ENVELOPE.has(key)) insert(tree, key, value);
  }
  return readStruct(input, tree, '');
}
