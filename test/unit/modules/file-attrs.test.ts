import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attrChanges, attrCommands, missingFor, needArgs, parseStat, type PathState, type PresentPath } from '../../../modules/files/file-attrs.js';
import { NotYetThere } from '../../../runner/types.js';

const f = (mode: string, owner = 'root', group = 'root', uid = 0, gid = 0): PresentPath => ({ type: 'file', mode, owner, group, uid, gid });

test('parseStat reads type, four-digit mode, owner, group and a link target', () => {
  assert.equal(parseStat(['file 644 redis adm 999 4'], '/x').state, { type: 'file', mode: '0644', owner: 'redis', group: 'adm', uid: 999, gid: 4 });
  assert.equal(parseStat(['link 777 root root 0 0', '/etc/target with space'], '/x'), {
    state: { type: 'link', mode: '0777', owner: 'root', group: 'root', uid: 0, gid: 0, linkTarget: '/etc/target with space' },
    used: 2,
  });
  assert.equal(parseStat(['absent', 'same'], '/x'), { state: { type: 'absent' }, used: 1 });
  assert.throws(() => parseStat(['stat: cannot'], '/x'), /unexpected stat output for \/x/);
});

test('one change per differing attribute, described old → new', () => {
  // chown clears setuid/setgid bits: an owner or group op sets the wanted mode again after it.
  assert.equal(attrChanges('/etc/k', { mode: '0600', owner: 'redis', group: 'redis' }, f('0644')), [
    { description: 'mode 0644 → 0600 on /etc/k', op: { kind: 'attrs', path: '/etc/k', mode: '0600' } },
    { description: 'owner root → redis on /etc/k', op: { kind: 'attrs', path: '/etc/k', owner: 'redis', mode: '0600' } },
    { description: 'group root → redis on /etc/k', op: { kind: 'attrs', path: '/etc/k', group: 'redis', mode: '0600' } },
  ]);
  assert.equal(attrChanges('/l', { owner: 'redis', mode: '0600' }, { ...f('0777'), type: 'link', linkTarget: '/t' }), [
    { description: 'owner root → redis on /l', op: { kind: 'attrs', path: '/l', owner: 'redis', link: true } },
  ]);
});

test('equal attributes, numeric ids and unset wishes give no change', () => {
  assert.equal(attrChanges('/x', { mode: '0640', owner: 'redis', group: '4' }, f('0640', 'redis', 'adm', 999, 4)), []);
  assert.equal(attrChanges('/x', {}, f('0777')), []);
  // YAML's 04755 (setuid) is the same mode stat reports as 4755.
  assert.equal(attrChanges('/x', { mode: '04755' }, f('4755')), []);
  assert.equal(attrChanges('/x', { mode: '04755' }, f('0755')), [{ description: 'mode 0755 → 4755 on /x', op: { kind: 'attrs', path: '/x', mode: '04755' } }]);
});

test('modes on symlinks are not compared; an absent path has no attribute changes', () => {
  assert.equal(attrChanges('/l', { mode: '0600' }, { ...f('0777'), type: 'link', linkTarget: '/t' }), []);
  assert.equal(attrChanges('/x', { mode: '0600' }, { type: 'absent' }), []);
});

test('attrCommands quotes the path and chowns before chmod', () => {
  assert.equal(attrCommands("/tmp/a b'c", { mode: '0600', owner: 'redis', group: 'adm' }), [
    `chown -- redis:adm '/tmp/a b'\\''c'`,
    `chmod -- 00600 '/tmp/a b'\\''c'`,
  ]);
  assert.equal(attrCommands('/l', { mode: '0600', group: 'adm' }, true), ['chown -h -- :adm /l']);
});

test('need: named owners and groups are looked up, ids are not; a missing folder, user or group is "not there yet", named', () => {
  assert.equal(needArgs({ owner: 'redis', group: '998' }, '/etc/redis'), ['/etc/redis', 'redis', '']);
  assert.equal(needArgs({}, undefined), ['', '', '']);
  const args = ['/etc/redis/tls', 'redis', 'redis'];
  assert.is(missingFor('need 0 0 0', '/etc/redis/tls/ca.crt', args), undefined);
  const folder = missingFor('need 1 1 0', '/etc/redis/tls/ca.crt', args)!;
  assert.instance(folder, NotYetThere);
  assert.equal([folder.missing, folder.message], ['folder /etc/redis/tls', 'the folder /etc/redis/tls of /etc/redis/tls/ca.crt does not exist']);
  assert.equal([missingFor('need 0 1 1', '/x', args)!.missing, missingFor('need 0 0 1', '/x', args)!.message], ['user redis', 'group redis of /x is not a group on this host']);
  assert.throws(() => missingFor('absent', '/x', args), /unexpected output for \/x: "absent"/);
});

test.run();
