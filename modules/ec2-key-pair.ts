import { mkdir, open, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { AwsError } from './aws/errors.js';
import { awsArgs, awsSettings, resourceArgs } from './aws/module-args.js';
import { ec2Fingerprint, generateEd25519, publicKeyOfPrivate, sameFingerprint } from './aws/ssh-keys.js';
import { made, planOf, runSteps, type Step } from './aws/steps.js';
import { missingTags, sdkTags, tagMap, tagSpecifications, tagText, wantedTags, type TagMap } from './aws/tags.js';
import { defineModule, type Vars } from '../runner/types.js';

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

export interface KeyPairActual {
  /** The private key's absolute path. */
  path: string;
  /** The controller's key, or null when there is no private key file yet. */
  local: { publicKey: string; fingerprint: string } | null;
  remote: { id: string; fingerprint: string; tags: TagMap } | null;
}

interface KeyPairState {
  publicKey?: string;
}

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

export function keyPairSteps(args: KeyPairArgs, actual: KeyPairActual): Step<KeyPairState>[] {
  const tags = wantedTags(args.name, args.project, args.tags);
  const { local, remote, path } = actual;
  const steps: Step<KeyPairState>[] = [];
  if (local === null) {
    steps.push({
      description: `generate an ed25519 key pair at ${path} (mode 0600, stays on the controller) and ${path}.pub`,
      async run(_ec2, s) {
        const kp = generateEd25519(`rplay ${args.name}`);
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        await writeNew(path, kp.privateKey, 0o600);
        await writeNew(`${path}.pub`, `${kp.publicKey}\n`, 0o644);
        s.publicKey = kp.publicKey;
      },
    });
  }
  const matches = local !== null && remote !== null && sameFingerprint(local.fingerprint, remote.fingerprint);
  if (remote !== null && !matches) {
    steps.push({
      description: `DeleteKeyPair ${args.name} (fingerprint ${remote.fingerprint} is not ${local === null ? 'the new key' : `${path}'s ${local.fingerprint}`})`,
      run: async (ec2) => void (await ec2.deleteKeyPair({ KeyPairId: remote.id })),
    });
  }
  if (remote === null || !matches) {
    steps.push({
      description: `ImportKeyPair ${args.name} (the public key of ${path}${local === null ? ', made above' : `, fingerprint ${local.fingerprint}`}) tags ${tagText(tags)}`,
      async run(ec2, s) {
        const publicKey = made(s.publicKey, 'the public key');
        await ec2.importKeyPair({ KeyName: args.name, PublicKeyMaterial: Buffer.from(publicKey), TagSpecifications: tagSpecifications(['key-pair'], tags) });
      },
    });
  } else {
    const lacking = missingTags(tags, remote.tags);
    if (Object.keys(lacking).length > 0) {
      steps.push({ description: `CreateTags ${remote.id} ${tagText(lacking)}`, run: async (ec2) => void (await ec2.createTags({ Resources: [remote.id], Tags: sdkTags(lacking) })) });
    }
  }
  return steps;
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
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const [publicKey, described] = await Promise.all([readLocalKey(path), ec2.describeKeyPairs({ Filters: [{ Name: 'key-name', Values: [args.name] }] })]);
    let local: KeyPairActual['local'] = null;
    if (publicKey !== null) {
      const fingerprint = ec2Fingerprint(publicKey);
      if (fingerprint === null) throw new AwsError(`${path}: EC2 imports ed25519 and RSA keys only, not ${publicKey.split(' ')[0]}`);
      local = { publicKey, fingerprint };
    }
    const k = described.KeyPairs?.[0];
    const remote = k === undefined ? null : { id: made(k.KeyPairId, 'the key pair id'), fingerprint: k.KeyFingerprint ?? '', tags: tagMap(k.Tags) };
    return { path, local, remote };
  },
  plan: (args, actual) => planOf(keyPairSteps(args, actual), `key pair ${args.name} matches ${actual.path}`, resultOf(args, actual.path, actual.local?.publicKey)),
  async legacyApply(ctx, args, _plan, actual) {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const s = await runSteps(ec2, keyPairSteps(args, actual), { publicKey: actual.local?.publicKey });
    return { result: resultOf(args, actual.path, s.publicKey) };
  },
});
