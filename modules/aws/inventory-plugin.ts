// The aws_ec2 dynamic inventory, in the shape of Ansible's amazon.aws.aws_ec2 plugin: instances of the
// listed regions that match `filters`, named by the first `hostnames` preference they have, with their
// attributes (snake_case) as host variables, plus `compose`d variables, `groups` and `keyed_groups`.
// Two instances with the same name are an error naming both, never a merge.
import type { Filter } from '@aws-sdk/client-ec2';
import { Type, type Static } from '@sinclair/typebox';
import { isAbsolute, resolve } from 'node:path';
import { ec2Client, type AwsSettings } from './client.js';
import { ConstructError, construct } from './constructed.js';
import { DEFAULT_HOSTNAMES, hostnameOf, hostnameProblem } from './hostnames.js';
import { instanceHostVars } from './instance-vars.js';
import { cacheFile, projectCacheDir, projectDirOf, readCache, writeCache } from './inventory-cache.js';
import { compile } from '../../runner/playbook/ajv.js';
import { describeSchemaErrors } from '../../runner/playbook/schema-errors.js';
import { InputError, positionAtPath } from '../../runner/yaml/load.js';
import type { GroupDocument, InventoryDocument } from '../../runner/inventory/inventory-document.js';

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

const OptionsSchema = Type.Object(
  {
    plugin: Type.String(),
    /** Default: AWS_REGION. */
    regions: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** EC2 filter name → value(s), e.g. tag:project: redis-lab. Without instance-state-name, terminated instances are left out. */
    filters: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Union([Scalar, Type.Array(Scalar)]))),
    hostnames: Type.Optional(
      Type.Array(
        Type.Union([
          Type.String({ minLength: 1 }),
          Type.Object({ name: Type.String({ minLength: 1 }), prefix: Type.Optional(Type.String({ minLength: 1 })), separator: Type.Optional(Type.String()) }, { additionalProperties: false }),
        ]),
        { minItems: 1 },
      ),
    ),
    compose: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Unknown())),
    groups: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }))),
    keyed_groups: Type.Optional(
      Type.Array(
        Type.Object(
          {
            key: Type.String({ minLength: 1 }),
            prefix: Type.Optional(Type.String()),
            separator: Type.Optional(Type.String()),
            parent_group: Type.Optional(Type.String({ minLength: 1 })),
            default_value: Type.Optional(Type.String()),
            trailing_separator: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    strict: Type.Optional(Type.Boolean()),
    leading_separator: Type.Optional(Type.Boolean()),
    /** An EC2-compatible endpoint (the lab's emulator); default: the SDK's (AWS_ENDPOINT_URL_EC2, else AWS). */
    endpoint_url: Type.Optional(Type.String({ minLength: 1 })),
    access_key: Type.Optional(Type.String({ minLength: 1 })),
    secret_key: Type.Optional(Type.String({ minLength: 1 })),
    session_token: Type.Optional(Type.String({ minLength: 1 })),
    profile: Type.Optional(Type.String({ minLength: 1 })),
    cache: Type.Optional(Type.Boolean()),
    /** Seconds a cached answer is reused (default 3600, as Ansible's). */
    cache_timeout: Type.Optional(Type.Integer({ minimum: 0 })),
    /** The cache's folder (relative to this file); default: the project's .rplay/cache. */
    cache_connection: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export type AwsEc2Options = Static<typeof OptionsSchema>;

let validate: ReturnType<typeof compile> | undefined;

function checkOptions(config: Record<string, unknown>, file: string): AwsEc2Options {
  validate ??= compile(OptionsSchema);
  if (!validate(config)) {
    const problem = describeSchemaErrors(validate.errors ?? [], 'aws_ec2');
    throw new InputError(problem?.message ?? 'invalid aws_ec2 options', (problem && positionAtPath(config, problem.path)) ?? file);
  }
  const options = config as AwsEc2Options;
  (options.hostnames ?? []).forEach((h, i) => {
    const problem = hostnameProblem(h);
    if (problem !== null) throw new InputError(`aws_ec2.hostnames[${i}]: ${problem}`, positionAtPath(config, ['hostnames', i]) ?? file);
  });
  return options;
}

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

function ec2Filters(filters: AwsEc2Options['filters']): Filter[] {
  const out: Filter[] = Object.entries(filters ?? {}).map(([Name, v]) => ({ Name, Values: (Array.isArray(v) ? v : [v]).map(String) }));
  if (!out.some((f) => f.Name === 'instance-state-name')) out.push({ Name: 'instance-state-name', Values: LIVE_STATES });
  return out;
}

type HostVars = Record<string, unknown>;

async function describeRegion(settings: AwsSettings, filters: Filter[]): Promise<HostVars[]> {
  const ec2 = await ec2Client(settings);
  const out: HostVars[] = [];
  let token: string | undefined;
  do {
    const page = await ec2.describeInstances({ Filters: filters, MaxResults: 1000, NextToken: token });
    for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.push(instanceHostVars(i, settings.region));
    token = page.NextToken;
  } while (token !== undefined);
  return out;
}

async function instances(o: AwsEc2Options, file: string): Promise<HostVars[]> {
  const regions = o.regions ?? (process.env.AWS_REGION ? [process.env.AWS_REGION] : undefined);
  if (regions === undefined) throw new InputError('aws_ec2: list the regions to read (regions: [us-east-1]), or set AWS_REGION', file);
  const filters = ec2Filters(o.filters);
  const settings = (region: string): AwsSettings => ({
    region,
    ...(o.endpoint_url === undefined ? {} : { endpointUrl: o.endpoint_url }),
    ...(o.access_key === undefined ? {} : { accessKey: o.access_key }),
    ...(o.secret_key === undefined ? {} : { secretKey: o.secret_key }),
    ...(o.session_token === undefined ? {} : { sessionToken: o.session_token }),
    ...(o.profile === undefined ? {} : { profile: o.profile }),
  });
  const query = async (): Promise<HostVars[]> => (await Promise.all(regions.map((r) => describeRegion(settings(r), filters)))).flat();
  if (!o.cache) return query();
  const dir = o.cache_connection === undefined ? projectCacheDir(projectDirOf(file)) : isAbsolute(o.cache_connection) ? o.cache_connection : resolve(file, '..', o.cache_connection);
  const where = cacheFile(dir, { regions, filters, endpoint: o.endpoint_url ?? process.env.AWS_ENDPOINT_URL_EC2 ?? null, profile: o.profile ?? null });
  const cached = await readCache<HostVars[]>(where, o.cache_timeout ?? 3600);
  if (cached !== null) return cached;
  const fresh = await query();
  await writeCache(where, fresh);
  return fresh;
}

/** Host names compare as people read them: redis-node-2 before redis-node-10. */
const byName = new Intl.Collator('en', { numeric: true }).compare;

export async function awsEc2Inventory(config: Record<string, unknown>, file: string): Promise<InventoryDocument> {
  const o = checkOptions(config, file);
  const found = await instances(o, file);
  const prefs = o.hostnames ?? DEFAULT_HOSTNAMES;
  const named = new Map<string, { vars: HostVars; source: string }>();
  for (const vars of found) {
    const host = hostnameOf(vars, prefs);
    if (host === undefined) continue;
    const other = named.get(host.name);
    if (other !== undefined) {
      throw new InputError(
        `aws_ec2: two instances have the host name ${host.name} (from ${host.source}): ${String(other.vars.instance_id)} and ${String(vars.instance_id)}. ` +
          'Give each a unique name, or narrow the filters',
        file,
      );
    }
    named.set(host.name, { vars, source: host.source });
  }
  const hosts: Record<string, HostVars> = {};
  const children: Record<string, GroupDocument> = { aws_ec2: { hosts: {} } };
  const member = (group: string, host: string): void => {
    const g = (children[group] ??= {});
    (g.hosts ??= {})[host] = null;
  };
  for (const name of [...named.keys()].sort(byName)) {
    const { vars } = named.get(name)!;
    let built;
    try {
      built = construct(name, vars, o);
    } catch (e) {
      if (e instanceof ConstructError) throw new InputError(`aws_ec2: ${e.message}`, file);
      throw e;
    }
    hosts[name] = { ...vars, ...built.vars };
    member('aws_ec2', name);
    for (const g of built.groups) member(g, name);
    for (const [parent, kids] of Object.entries(built.parents)) {
      const p = (children[parent] ??= {});
      for (const k of kids) (p.children ??= {})[k] = null;
    }
  }
  return { all: { hosts, children } };
}
