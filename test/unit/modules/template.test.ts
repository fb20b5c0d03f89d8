import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { template } from '../../../modules/template.js';
import { Secret } from '../../../runner/secret.js';
import { ModuleError, type ModuleContext } from '../../../runner/types.js';

const project = mkdtempSync(join(tmpdir(), 'rplay-template-unit-'));
mkdirSync(join(project, 'templates'));
writeFileSync(join(project, 'templates', 'users.acl'), 'user default off\nuser {{ user }} on >{{ pass }} ~* +@all\n');

// A host where nothing exists yet at dest: the gather script answers "nothing missing, absent".
const ctx = (vars: Record<string, unknown>, calls: string[] = []) =>
  ({
    host: 'h',
    become: true,
    becomeUser: 'root',
    projectDir: project,
    vars,
    conn: { sh: async (script: string) => (calls.push(script), { rc: 0, stdout: 'need 0 0 0\nabsent\n', stderr: '' }) },
  }) as unknown as ModuleContext;

test('rendered with the host vars, Secrets revealed and not escaped: the plan creates dest with that text', async () => {
  const args = { src: 'users.acl', dest: '/etc/redis/users.acl', mode: '0640' };
  const plan = template.plan(args, await template.gather(ctx({ user: 'app', pass: new Secret('a&b<c>"d\'e') }), args));
  assert.equal(plan.changes, [
    {
      description: 'create /etc/redis/users.acl (mode 0640)',
      diff: { path: '/etc/redis/users.acl', before: '', after: 'user default off\nuser app on >a&b<c>"d\'e ~* +@all\n' },
    },
  ]);
});

test('an undefined variable fails with the template path, line and name, before the host is asked anything', async () => {
  const calls: string[] = [];
  try {
    await template.gather(ctx({ user: 'app' }, calls), { src: 'users.acl', dest: '/x' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ModuleError);
    assert.is((e as Error).message, "templates/users.acl:2: undefined variable 'pass'");
  }
  assert.equal(calls, []);
});

test('a missing template file names the path looked at', async () => {
  try {
    await template.gather(ctx({}), { src: 'nope.conf', dest: '/x' });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, `template: cannot read ${join(project, 'templates', 'nope.conf')}: ENOENT`);
  }
});

test.after(() => rmSync(project, { recursive: true, force: true }));

test.run();
