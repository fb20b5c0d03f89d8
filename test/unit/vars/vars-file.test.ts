import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadVarsFile, setVaultDecrypter } from '../../../runner/vars/index.js';
import { InputError } from '../../../runner/yaml/load.js';

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rplay-vars-'));
  await writeFile(join(dir, name), text);
  return join(dir, name);
}

async function rejection(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

test('a vars file is a mapping of names; values keep YAML 1.1 types; empty is {}', async () => {
  assert.equal(await loadVarsFile(await file('v.yml', 'redis_port: 6379\ntls: yes\nconf_mode: 0640\n')), {
    redis_port: 6379,
    tls: true,
    conf_mode: 416, // only a `mode` key becomes "0640"
  });
  assert.equal(await loadVarsFile(await file('e.yml', '# nothing yet\n')), {});
});

test('a list, or a key that is no variable name, is an error at file:line:col', async () => {
  const list = await file('l.yml', '- a\n- b\n');
  assert.is((await rejection(loadVarsFile(list))).message, `${list}:1:1: a vars file must be a mapping of variable names to values`);
  const bad = await file('b.yml', 'ok: 1\nredis-port: 2\n');
  assert.is((await rejection(loadVarsFile(bad))).message, `${bad}:2:1: 'redis-port' is not a valid variable name (letters, digits and _, not starting with a digit)`);
});

test('an ansible-vault file goes through the installed decrypter', async () => {
  const vault = await file('vault.yml', '$ANSIBLE_VAULT;1.1;AES256\n6162\n');
  setVaultDecrypter(undefined);
  assert.is((await rejection(loadVarsFile(vault))).message, `${vault}: file is ansible-vault encrypted, but no vault support is loaded`);
  const seen: string[] = [];
  setVaultDecrypter(async (text, path) => {
    seen.push(`${path}|${text.split('\n')[0]}`);
    return { vault_password: 'x' };
  });
  try {
    assert.equal(await loadVarsFile(vault), { vault_password: 'x' });
    assert.equal(seen, [`${vault}|$ANSIBLE_VAULT;1.1;AES256`]);
  } finally {
    setVaultDecrypter(undefined);
  }
});

test.run();
