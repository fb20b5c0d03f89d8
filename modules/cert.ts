import { createHash, randomBytes } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { shQuote } from '../runner/connection/quote.js';
import { defineModule, ModuleError, type ModuleContext, type Vars } from '../runner/types.js';
import { certFields, checkSans, planCert, type CertFacts, type CertOp, type NodeFile, type WantedCert } from './tls/cert-plan.js';
import { tail } from './host/tail.js';
import { attrArgs, attrCommands, describeAttrs, parseStat, STAT_FN } from './files/file-attrs.js';
import { ensureCa, issueCertificate, loadCa, readCa, type CaMaterial } from './tls/pki.js';
import { requirePrincipals } from './files/file-content.js';

const schema = Type.Object(
  {
    /** Controller folder of the CA (relative to the project): ca.key (0600, never copied) and ca.crt. */
    ca_dir: Type.String({ minLength: 1 }),
    /** server (serverAuth + clientAuth, as Redis also connects out with it) or client. Default server. */
    kind: Type.Optional(Type.Union([Type.Literal('server'), Type.Literal('client')])),
    common_name: Type.String({ minLength: 1 }),
    /** DNS names and IP addresses the certificate is valid for. */
    sans: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    cert_path: Type.String({ minLength: 1 }),
    key_path: Type.String({ minLength: 1 }),
    /** Where the CA certificate goes on the node (peers and clients verify against it). */
    ca_path: Type.Optional(Type.String({ minLength: 1 })),
    owner: attrArgs.owner,
    group: attrArgs.group,
    /**
     * Leaf key size, default 2048: leaves are re-issued every `days` and every TLS handshake pays
     * for the key size (4096-bit signing is ~7× slower); the long-lived CA key is 4096-bit.
     */
    key_bits: Type.Optional(Type.Integer({ minimum: 2048, maximum: 8192 })),
    days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    /** Re-issue when the certificate expires within this many days. Default 30. */
    renew_before: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

type CertArgs = Static<typeof schema>;

function wanted(args: CertArgs): WantedCert {
  return {
    caDir: args.ca_dir,
    kind: args.kind ?? 'server',
    commonName: args.common_name,
    sans: args.sans ?? [],
    certPath: args.cert_path,
    keyPath: args.key_path,
    caPath: args.ca_path,
    owner: args.owner,
    group: args.group,
    keyBits: args.key_bits ?? 2048,
    days: args.days ?? 365,
    renewBefore: args.renew_before ?? 30,
  };
}

// One round trip: stat and content of the certificate and CA file; for the private key, its stat
// and only the public half openssl derives from it on the node (`pubkey` with it, `nokey` when
// openssl cannot read the file as a key). Then whether each parent folder exists. Content travels
// base64 (the session is text); files over 1 MiB are not certificates.
const GATHER = `${STAT_FN}
command -v openssl >/dev/null || { echo "openssl is not installed" >&2; exit 1; }
n=0
for p in "$1" "$2" "$3"; do
  n=$((n + 1))
  if [ -z "$p" ]; then echo none; continue; fi
  st "$p" || exit 1
  if [ -f "$p" ] && [ ! -L "$p" ]; then
    if [ ! -r "$p" ]; then echo unreadable
    elif [ $n = 2 ]; then
      # An empty passphrase: an encrypted key is refused, never prompted for.
      if pub=$(openssl pkey -in "$p" -passin pass: -pubout 2>/dev/null); then printf 'pubkey '; printf '%s\\n' "$pub" | base64 -w0; echo; else echo nokey; fi
    else printf 'content '; head -c 1048576 -- "$p" | base64 -w0; echo; fi
  fi
done
shift 3
# A folder the login user may not search hides its files (they would look absent): say so instead.
for d in "$@"; do
  a=$d; while [ ! -e "$a" ] && [ "$a" != / ]; do a=$(dirname -- "$a"); done
  if [ ! -x "$a" ]; then echo "denied $a"; elif [ -d "$d" ]; then echo dir; else echo nodir; fi
done`;

interface GatheredFile {
  state: NodeFile['state'];
  content?: string;
}

function parseGather(stdout: string, paths: readonly string[], ctx: ModuleContext): { files: (GatheredFile | undefined)[]; dirs: string[] } {
  const lines = stdout.split('\n');
  let i = 0;
  const files = paths.map((path): GatheredFile | undefined => {
    if (lines[i] === 'none') {
      i++;
      return undefined;
    }
    const { state, used } = parseStat(lines.slice(i), path);
    i += used;
    if (state.type !== 'file') return { state };
    const line = lines[i++] ?? '';
    if (line === 'unreadable') {
      throw new ModuleError(`cert: cannot read ${path} on ${ctx.host} as the login user (mode ${state.mode}, owner ${state.owner}); run the task with become`);
    }
    if (line === 'nokey') return { state };
    const word = line.slice(0, line.indexOf(' ') + 1);
    if (word !== 'content ' && word !== 'pubkey ') throw new ModuleError(`cert: unexpected answer from ${ctx.host} about ${path}`);
    return { state, content: Buffer.from(line.slice(word.length), 'base64').toString('utf8') };
  });
  return { files, dirs: lines.slice(i) };
}

function parentDirs(w: WantedCert): string[] {
  return [...new Set([w.certPath, w.keyPath, ...(w.caPath ? [w.caPath] : [])].map((p) => dirname(p)))];
}

async function gather(ctx: ModuleContext, args: CertArgs): Promise<CertFacts> {
  const w = wanted(args);
  checkSans(w.sans);
  const dirs = parentDirs(w);
  const paths = [w.certPath, w.keyPath, w.caPath ?? ''];
  await requirePrincipals(ctx, w.keyPath, { owner: w.owner, group: w.group });
  const r = await ctx.conn.sh(GATHER, [...paths, ...dirs]);
  if (r.rc !== 0) throw new ModuleError(`cert: reading ${paths.filter(Boolean).join(', ')} on ${ctx.host} failed: ${tail(r.stderr)}`);
  const { files, dirs: dirLines } = parseGather(r.stdout, paths, ctx);
  const denied = dirLines.find((l) => l.startsWith('denied '));
  if (denied) throw new ModuleError(`cert: cannot look into ${denied.slice(7)} on ${ctx.host} as the login user; run the task with become`);
  const [cert, key, caFile] = files as [GatheredFile, GatheredFile, GatheredFile | undefined];
  let ca;
  try {
    ca = await readCa(resolve(ctx.projectDir, w.caDir));
  } catch (e) {
    throw new ModuleError(`cert: ${(e as Error).message}`);
  }
  return {
    now: Date.now(),
    ca,
    cert: { state: cert.state, content: cert.content },
    key: { state: key.state, publicKey: key.content },
    caFile: caFile && { state: caFile.state, content: caFile.content },
    missingDirs: dirs.filter((_, n) => dirLines[n] !== 'dir'),
  };
}

/**
 * A new private key made on the node by openssl, in a fresh root-owned 0700 folder beside the key
 * path (same filesystem, so the final rename is atomic), given its mode and owner there, then
 * renamed into place. Only its public half comes back.
 */
async function newNodeKey(ctx: ModuleContext, op: Extract<CertOp, { kind: 'newKey' }>): Promise<string> {
  const stage = join(dirname(op.path), `.rplay-key.${randomBytes(6).toString('hex')}`);
  const script = [
    'set -e',
    'umask 077',
    // mkdir refuses an existing path (a planted folder or link), so the folder is ours alone.
    'mkdir -m 0700 -- "$1"',
    'trap \'rm -rf -- "$1"\' EXIT',
    `openssl genpkey -algorithm ${op.algorithm} -pkeyopt rsa_keygen_bits:${op.bits} -out "$1/key"`,
    ...attrCommands(join(stage, 'key'), { mode: op.mode, owner: op.owner, group: op.group }),
    'openssl pkey -in "$1/key" -pubout',
    'mv -f -- "$1/key" "$2"',
  ].join('\n');
  const r = await ctx.conn.sh(script, [stage, op.path]);
  if (r.rc !== 0) throw new ModuleError(`cert: making a private key with openssl on ${ctx.host} failed: ${tail(r.stderr)}`);
  return r.stdout;
}

/** The CA an operation names: made by this apply, or the one planned with (refused if replaced since). */
async function caFor(op: { caDir: string; caCertSha256?: string }, made: ReadonlyMap<string, CaMaterial>): Promise<CaMaterial> {
  const fresh = made.get(op.caDir);
  if (fresh) return fresh;
  if (op.caCertSha256 === undefined) throw new ModuleError(`cert: no CA in ${op.caDir}: the plan made it first; plan again`);
  let ca;
  try {
    ca = await loadCa(op.caDir);
  } catch (e) {
    throw new ModuleError(`cert: CA in ${op.caDir}: ${(e as Error).message}`);
  }
  if (createHash('sha256').update(ca.certPem).digest('hex') !== op.caCertSha256) {
    throw new ModuleError(`cert: the CA in ${op.caDir} was replaced after this plan was made; plan again`);
  }
  return ca;
}

/**
 * A TLS key and certificate on a node, signed by a CA that lives on the controller, plus the CA
 * certificate. The key is made on the node and never read back: openssl there hands over its public
 * half, which is what the controller signs and compares with the certificate's. ok when the certificate is the CA's, matches its key, names the wanted CN and SANs,
 * is not within renew_before of expiring, and modes (key 0600, certificates 0644) and owners are right.
 */
export const cert = defineModule({
  name: 'cert',
  schema,
  gather,
  plan: (args, facts) => planCert(wanted(args), facts),
  async apply(ctx, ops) {
    const run = async (script: string, what: string): Promise<void> => {
      const r = await ctx.conn.sh(script);
      if (r.rc !== 0) throw new ModuleError(`cert: ${what} on ${ctx.host} failed: ${tail(r.stderr)}`);
    };
    const write = async (path: string, data: string, o: { mode: string; owner?: string; group?: string }): Promise<void> => {
      try {
        await ctx.conn.writeFile(path, data, { mode: o.mode, owner: o.owner, group: o.group });
      } catch (e) {
        throw new ModuleError(`cert: ${(e as Error).message}`);
      }
    };
    const madeCa = new Map<string, CaMaterial>();
    const madeKeys = new Map<string, string>();
    let result: Vars | undefined;
    for (const op of ops) {
      switch (op.kind) {
        case 'createCa':
          try {
            madeCa.set(op.caDir, await ensureCa(op.caDir));
          } catch (e) {
            throw new ModuleError(`cert: CA in ${op.caDir}: ${(e as Error).message}`);
          }
          break;
        case 'caKeyMode':
          try {
            await chmod(op.path, parseInt(op.mode, 8));
          } catch (e) {
            throw new ModuleError(`cert: CA key: ${(e as Error).message}`);
          }
          break;
        case 'mkdir':
          await run(`mkdir -p -m ${op.mode} -- ${shQuote(op.path)}`, `creating ${op.path}`);
          break;
        case 'newKey':
          madeKeys.set(op.path, await newNodeKey(ctx, op));
          break;
        case 'issue': {
          const ca = await caFor(op, madeCa);
          const publicKey = madeKeys.get(op.keyPath) ?? op.publicKey;
          if (publicKey === undefined) throw new ModuleError(`cert: no public key of ${op.keyPath} to sign (the plan has no key for it)`);
          let certPem;
          try {
            certPem = issueCertificate(ca, publicKey, { kind: op.certKind, commonName: op.commonName, sans: op.sans, days: op.days });
          } catch (e) {
            throw new ModuleError(`cert: the public key of ${op.keyPath} on ${ctx.host}: ${(e as Error).message}`);
          }
          await write(op.certPath, certPem, op);
          result = certFields(certPem);
          break;
        }
        case 'writeCaFile':
          await write(op.path, (await caFor(op, madeCa)).certPem, op);
          break;
        case 'attrs':
          await run(['set -e', ...attrCommands(op.path, op)].join('\n'), `setting ${describeAttrs(op).trim()} on ${op.path}`);
          break;
      }
    }
    return result && { result };
  },
});
