import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseFacts, setup } from '../../../modules/setup.js';

test('facts from the gather output, loopback addresses left out, names as Ansible spells them', () => {
  const facts = parseFacts('node-1.internal\nubuntu\n22.04\njammy\n10.0.1.5 127.0.0.1 172.17.0.1 \nyes\n');
  assert.equal(facts, {
    ansible_hostname: 'node-1',
    ansible_distribution: 'Ubuntu',
    ansible_distribution_version: '22.04',
    ansible_distribution_release: 'jammy',
    ansible_all_ipv4_addresses: ['10.0.1.5', '172.17.0.1'],
    has_systemd: true,
  });
  assert.is(parseFacts('h\namzn\n2023\n\n\nno\n').ansible_distribution, 'Amazon');
  assert.equal(setup.plan({}, facts), { changes: [], setVars: facts, result: { ansible_facts: facts } });
});

test.run();
