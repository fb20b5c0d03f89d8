import type { Module } from '../runner/types.js';
import { apt } from './apt.js';
import { assert } from './assert.js';
import { cert } from './cert.js';
import { command } from './command.js';
import { copy } from './copy.js';
import { debug } from './debug.js';
import { ebsEncrypt } from './ebs-encrypt.js';
import { ec2EbsDefaultEncryption } from './ec2-ebs-default-encryption.js';
import { ec2Instance } from './ec2-instance.js';
import { ec2InternetGateway } from './ec2-internet-gateway.js';
import { ec2KeyPair } from './ec2-key-pair.js';
import { ec2RootVolume } from './ec2-root-volume.js';
import { ec2RouteTable } from './ec2-route-table.js';
import { ec2SecurityGroup } from './ec2-security-group.js';
import { ec2Snapshot } from './ec2-snapshot.js';
import { ec2Subnet } from './ec2-subnet.js';
import { ec2Teardown } from './ec2-teardown.js';
import { ec2VolInfo } from './ec2-vol-info.js';
import { ec2Vpc } from './ec2-vpc.js';
import { file } from './file.js';
import { ping } from './ping.js';
import { redisAcl } from './redis-acl.js';
import { redisBackup } from './redis-backup.js';
import { redisCluster } from './redis-cluster.js';
import { redisCommand } from './redis-command.js';
import { redisConfig } from './redis-config.js';
import { redisFailover } from './redis-failover.js';
import { redisProbe } from './redis-probe.js';
import { redisReaddress } from './redis-readdress.js';
import { redisRestore } from './redis-restore.js';
import { redisTopology } from './redis-topology.js';
import { service } from './service.js';
import { setFact } from './set-fact.js';
import { setup } from './setup.js';
import { shell } from './shell.js';
import { template } from './template.js';
import { waitFor } from './wait-for.js';

// Adding a module: its file, its tests, and one line here (plus its import).
const modules: readonly Module[] = [
  apt,
  assert,
  cert,
  command,
  copy,
  debug,
  ebsEncrypt,
  ec2EbsDefaultEncryption,
  ec2Instance,
  ec2InternetGateway,
  ec2KeyPair,
  ec2RootVolume,
  ec2RouteTable,
  ec2SecurityGroup,
  ec2Snapshot,
  ec2Subnet,
  ec2Teardown,
  ec2VolInfo,
  ec2Vpc,
  file,
  ping,
  redisAcl,
  redisBackup,
  redisCluster,
  redisCommand,
  redisConfig,
  redisFailover,
  redisProbe,
  redisReaddress,
  redisRestore,
  redisTopology,
  service,
  setFact,
  setup,
  shell,
  template,
  waitFor,
];

/** Every module by the name a task uses for it. */
export const registry: ReadonlyMap<string, Module> = new Map(modules.map((m) => [m.name, m]));
