import { mkdir, open, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { awsArgs, awsSettings, resourceArgs } from './aws/module-args.js';
import { ec2Fingerprint, generateEd25519, publicKeyOfPrivate, sameFingerprint } from './aws/ssh-keys.js';
import { call, callsOp, held, type Ec2Op, type HeldSettings } from './aws/ec2-operation.js';
import { applyEc2, createPlan, known } from './aws/ec2-plan.js';
import { createTagsFor, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, type Change, type Operation, type Plan, type Vars } from '../runner/types.js';

const schema = Type.Object(
  {
    /** The key pair's name in EC2 (key names are unique per region). */
    ...resourceArgs,
    /**
     * The private key on the controller (relative to the project, ~ allowed); PATH.pub beside it.
     * Made (ed25519) when missing. It never leaves the controller: only the public key is imported.
     */
    private_key_file: Type.String({ minLength: 1 }),
    ...awsArgs,
  },
  { additionalProperties: false },
);

type KeyPairArgs = typeof schema.static;

interface LocalKey {
  publicKey: string;
  fingerprint: string;
}

interface RemoteKey {
  id: string;
  fingerprint: string;
  tags: TagMap;
}

export interface KeyPairActual {
  aws: HeldSettings;
  /** The private key's absolute path. */
  path: string;
  /** The controller's key, or null when there is no private key file yet. */
  local: LocalKey | null;
  remote: RemoteKey | null;
}

/** Makes the controller's key pair: the private key (0600) at `path`, its public half beside it. */
export interface GenerateKeyOp extends Operation {
  kind: 'generate-key';
  path: string;
  comment: string;
}

export type KeyPairOp = Ec2Op | GenerateKeyOp;

function absolute(path: string, projectDir: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(projectDir, path);
}

/** Writes a new file with `mode`, refusing to replace one (a key someone made meanwhile is theirs). */
async function writeNew(path: string, text: string, mode: number): Promise<void> {
  const f = await open(path, 'wx', mode);
  try {
    await f.writeFile(text);
    await f.chmod(mode);
  } finally {
    await f.close();
  }
}

const importText = (args: KeyPairArgs, path: string, fingerprint: string | null): string =>
  `ImportKeyPair ${args.name} (the public key of ${path}${fingerprint === null ? ', made above' : `, fingerprint ${fingerprint}`}) tags ${tagText(wantedTags(args.name, args.project, args.tags))}`;

const deleteText = (args: KeyPairArgs, remote: RemoteKey, path: string, local: LocalKey | null): string =>
  `DeleteKeyPair ${args.name} (fingerprint ${remote.fingerprint} is not ${local === null ? 'the new key' : `${path}'s ${local.fingerprint}`})`;

export function keyPairPlan(args: KeyPairArgs, actual: KeyPairActual): Plan<KeyPairOp> {
  const { local, remote, path, aws } = actual;
  const result = resultOf(args, path, local?.publicKey);
  if (local === null) {
    // The key is made on the controller first; the next round imports what was made.
    const generate: Change<KeyPairOp> = {
      description: `generate an ed25519 key pair at ${path} (mode 0600, stays on the controller) and ${path}.pub`,
      op: { kind: 'generate-key', path, comment: `rplay ${args.name}` },
    };
    return createPlan(generate, [...(remote === null ? [] : [{ description: deleteText(args, remote, path, null) }]), { description: importText(args, path, null) }], result);
  }
  const changes: Change<KeyPairOp>[] = [];
  const matches = remote !== null && sameFingerprint(local.fingerprint, remote.fingerprint);
  if (remote !== null && !matches) {
    changes.push({ description: deleteText(args, remote, path, local), op: callsOp(aws, [call('DeleteKeyPair', { KeyPairId: remote.id })]) });
  }
  if (remote === null || !matches) {
    const tags = wantedTags(args.name, args.project, args.tags);
    const params = { KeyName: args.name, PublicKeyMaterial: Buffer.from(local.publicKey), TagSpecifications: tagSpecifications(['key-pair'], tags) };
    changes.push({ description: importText(args, path, local.fingerprint), op: callsOp(aws, [call('ImportKeyPair', params)]) });
  } else {
    const tagging = createTagsFor(remote.id, wantedTags(args.name, args.project, args.tags), remote.tags);
    if (tagging !== null) changes.push({ description: tagging.description, op: callsOp(aws, [tagging.step]) });
  }
  return { changes, msg: changes.length === 0 ? `key pair ${args.name} matches ${path}` : undefined, result };
}

/** The generated key's public half, for the task's result. */
async function generate(op: GenerateKeyOp): Promise<Vars> {
  const kp = generateEd25519(op.comment);
  await mkdir(dirname(op.path), { recursive: true, mode: 0o700 });
  try {
    await writeNew(op.path, kp.privateKey, 0o600);
    await writeNew(`${op.path}.pub`, `${kp.publicKey}\n`, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    throw new AwsError(`${(e as NodeJS.ErrnoException).path ?? op.path} appeared after the plan was made: it is not replaced. Run again to import the key that is there now`);
  }
  return { public_key: kp.publicKey, fingerprint: ec2Fingerprint(kp.publicKey) };
}

async function readLocalKey(path: string): Promise<string | null> {
  let privateKey: string;
  try {
    privateKey = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AwsError(`cannot read the private key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const derived = publicKeyOfPrivate(privateKey);
  if (derived !== null) return derived;
  // A passphrase-protected key: its .pub says which key it is.
  try {
    return (await readFile(`${path}.pub`, 'utf8')).trim();
  } catch {
    throw new AwsError(`cannot tell the public key of ${path}: it is not an unencrypted OpenSSH/PEM key and ${path}.pub is missing`);
  }
}

const resultOf = (args: KeyPairArgs, path: string, publicKey: string | undefined): Vars => ({
  key_name: args.name,
  private_key_file: path,
  ...(publicKey === undefined ? {} : { public_key: publicKey, fingerprint: ec2Fingerprint(publicKey) }),
});

/** An EC2 key pair imported from the controller's own key (made when missing); a key that differs is replaced. */
export const ec2KeyPair = defineModule({
  name: 'ec2_key_pair',
  schema,
  async gather(ctx, args): Promise<KeyPairActual> {
    const path = absolute(args.private_key_file, ctx.projectDir);
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    const [publicKey, described] = await Promise.all([readLocalKey(path), ec2.describeKeyPairs({ Filters: [{ Name: 'key-name', Values: [args.name] }] })]);
    let local: KeyPairActual['local'] = null;
    if (publicKey !== null) {
      const fingerprint = ec2Fingerprint(publicKey);
      if (fingerprint === null) throw new AwsError(`${path}: EC2 imports ed25519 and RSA keys only, not ${publicKey.split(' ')[0]}`);
      local = { publicKey, fingerprint };
    }
    const k = described.KeyPairs?.[0];
    const remote = k === undefined ? null : { id: known(k.KeyPairId, 'key pair id'), fingerprint: k.KeyFingerprint ?? '', tags: tagMap(k.Tags) };
    return { aws: held(settings), path, local, remote };
  },
  plan: keyPairPlan,
  async apply(ctx, ops) {
    const result: Vars = {};
    for (const op of ops) Object.assign(result, op.kind === 'generate-key' ? await generate(op) : (await applyEc2(ctx, [op])).result);
    return { result };
  },
});
