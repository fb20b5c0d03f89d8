// `npm run build` compiles every validator ahead of time; loading a playbook then imports only the
// modules it must run code of, compiles no schema, and still refuses bad args of modules it never
// imported.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ValidateFunction } from 'ajv';
import { registry } from '../../../modules/registry.js';
import { compile } from '../../../runner/playbook/ajv.js';
import type { Precompiled } from '../../../runner/playbook/precompiled.js';
import { repoDir, rplay } from '../../support/rplay-cli.js';

const playbookDist = join(repoDir, 'dist', 'runner', 'playbook');
const require = createRequire(import.meta.url);
let table: Precompiled;
let hook: string;

test.before(async () => {
  await promisify(execFile)(process.execPath, [join(repoDir, 'dist', 'modules', 'precompile.js')]);
  // A fresh URL: this process may have imported the stub already.
  table = (await import(`${join(playbookDist, 'precompiled.js')}?${Date.now()}`)).precompiled as Precompiled;
  const dir = await mkdtemp(join(tmpdir(), 'rplay-precompiled-'));
  const log = join(dir, 'loaded.txt');
  hook = join(dir, 'hook.mjs');
  const resolver = `import { appendFileSync } from 'node:fs'; export async function resolve(s, c, n) { const r = await n(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }`;
  await writeFile(hook, `import { register } from 'node:module'; register(${JSON.stringify('data:text/javascript,' + encodeURIComponent(resolver))});\n`);
});

/** Values of every kind for every property, and an unknown key: what a user can get wrong. */
function samples(schema: { properties?: Record<string, unknown> }): unknown[] {
  const wrong = [1, 'x', '', true, [], ['x'], {}, null, -1, 70000, '0640', '{{ v }}'];
  const keys = Object.keys(schema.properties ?? {});
  return [{}, { no_such_key: 1 }, 'text', ...keys.flatMap((k) => wrong.map((v) => ({ [k]: v }))), Object.fromEntries(keys.map((k) => [k, 'x']))];
}

const outcome = (v: ValidateFunction, x: unknown): string => JSON.stringify([v(x), (v.errors ?? []).map((e) => [e.instancePath, e.schemaPath, e.keyword, e.params, e.message, e.parentSchema])]);

test('every module and keyword validator built ahead of time judges as one compiled at start-up does, errors alike', async () => {
  const names = [...registry.names].sort();
  assert.equal(Object.keys(table.modules).sort(), names);
  for (const name of names) {
    const mod = await registry.load(name);
    assert.is(table.modules[name]!.freeForm, mod.freeForm, `${name} freeForm`);
    assert.is(table.modules[name]!.checksAtLoad, mod.checkAtLoad !== undefined, `${name} checksAtLoad`);
    const ahead = require(join(playbookDist, 'validators', table.validators[`module.${name}`]!)) as ValidateFunction;
    const now = compile(mod.schema);
    for (const x of samples(mod.schema as { properties?: Record<string, unknown> })) assert.is(outcome(ahead, x), outcome(now, x), `${name} on ${JSON.stringify(x)}`);
  }
  for (const k of ['play', 'task', 'block', 'import']) assert.ok(table.validators[`keywords.${k}`], k);
});

test('--syntax-check of deploy.yml imports only template (it reads its file at load), no AWS SDK, no ajv compiler', async () => {
  const log = join(hook, '..', 'loaded.txt');
  await writeFile(log, '');
  const r = await rplay(['playbooks/deploy.yml', '--syntax-check'], { env: { NODE_OPTIONS: `--import=${hook}` } });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'playbook: playbooks/deploy.yml');
  const loaded = (await import('node:fs')).readFileSync(log, 'utf8').split('\n');
  const modules = loaded.filter((u) => /\/dist\/modules\/[^/]+\.js$/.test(u)).map((u) => u.replace(/.*\/dist\/modules\//, ''));
  assert.equal([...new Set(modules)].sort(), ['registry.js', 'template.js']);
  assert.not.ok(loaded.some((u) => u.includes('@aws-sdk')), 'the AWS SDK was loaded');
  assert.not.ok(loaded.some((u) => /ajv\/dist\/(ajv|core|compile)/.test(u)), 'ajv itself was loaded');
});

test('a module never imported still has its args refused at their position, with did-you-mean', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rplay-precompiled-'));
  await writeFile(join(dir, 'p.yml'), `- hosts: all\n  tasks:\n    - ec2_vpc:\n        name: x\n        cidr: 5\n    - ec2_vcp: {}\n`);
  const r = await rplay([join(dir, 'p.yml'), '--syntax-check']);
  assert.is(r.code, 1);
  assert.match(r.stderr, `${dir}/p.yml:5:9: task: ec2_vpc.cidr must be a string`);
  assert.match(r.stderr, `${dir}/p.yml:6:7: task: module 'ec2_vcp' unknown (did you mean 'ec2_vpc'?)`);
});

test.run();
