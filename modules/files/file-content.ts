import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { holdsSecret, registerSecret } from '../../runner/secret.js';
import { ModuleError, type ApplyResult, type Change, type ModuleContext, type Plan } from '../../runner/types.js';
import { hostSh, tail } from '../host/exec.js';
import {
  attrChanges,
  attrCommands,
  definedAttrs,
  describeAttrs,
  missingFor,
  NEED_FN,
  needArgs,
  parseStat,
  STAT_FN,
  type AttrOp,
  type PathState,
  type WantedAttrs,
} from './file-attrs.js';

/** What copy and template want at `dest`: exact bytes plus attributes. */
export interface WantedFile extends WantedAttrs {
  dest: string;
  content: Buffer;
  /** The controller file `content` was read from: the write operation names it instead of holding the bytes. */
  from?: string;
  backup?: boolean;
}

/** A file on the controller as it was planned: apply sends it only if it still has this size and sha256. */
export interface ControllerFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Writes a whole file atomically with its attributes: bytes made on the controller (rendered,
 * inline), or a controller file. `backup` first copies the file there aside.
 */
export interface WriteOp extends WantedAttrs {
  kind: 'write';
  path: string;
  data: Buffer | ControllerFile;
  sha256: string;
  backup?: true;
}

/** What copy, template (and redis_acl's file) apply: a write, or attributes of the file already there. */
export type DestOp = WriteOp | AttrOp;

/** What is at `dest` now. `before` is the current text when it differs and is worth a diff. */
export interface DestState {
  state: PathState;
  sameContent: boolean;
  before?: string;
  /** Content differs but is binary or too large to show. */
  undiffable?: boolean;
}

// Files larger than this are compared by hash only; their old content is not fetched for a diff.
const DIFF_LIMIT = 1024 * 1024;

// One round trip: whether the folder, owner and group exist ($4-$6), stat, then (regular files only)
// compare the sha256 with the wanted one and send the current bytes, base64 (the session is text),
// only when they differ.
const GATHER = `${STAT_FN}
${NEED_FN}
need "$4" "$5" "$6"
st "$1" || exit 1
if [ -f "$1" ] && [ ! -L "$1" ]; then
  h=$(sha256sum < "$1") || exit 1
  if [ "\${h%% *}" = "$2" ]; then echo same
  elif [ "$(stat -c %s -- "$1")" -gt "$3" ]; then echo large
  else echo differs; base64 -w0 < "$1"; echo; fi
fi`;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of `b`, or undefined for bytes a diff cannot show (NUL, invalid UTF-8). */
export function asText(b: Buffer): string | undefined {
  if (b.includes(0)) return undefined;
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export async function gatherDest(ctx: ModuleContext, want: WantedFile): Promise<DestState> {
  const need = needArgs(want, posix.dirname(want.dest));
  const checksum = sha256(want.content);
  // The digest of a file that holds a secret tests guesses of it offline (the rest of the file is
  // known from its template): masked as the secret is, before any result can show it.
  if (holdsSecret(want.content.toString('utf8'))) registerSecret(checksum);
  const r = await hostSh(ctx, GATHER, [want.dest, checksum, String(DIFF_LIMIT), ...need]);
  if (r.rc !== 0) throw new ModuleError(`cannot read ${want.dest}: ${tail(r.stderr)}`);
  const [needLine = '', ...lines] = r.stdout.split('\n');
  const missing = missingFor(needLine, want.dest, need);
  if (missing) throw missing;
  const { state, used } = parseStat(lines, want.dest);
  const verdict = lines[used];
  if (state.type !== 'file') return { state, sameContent: false };
  if (verdict === 'same') return { state, sameContent: true };
  if (verdict === 'large') return { state, sameContent: false, undiffable: true };
  const before = asText(Buffer.from(lines[used + 1] ?? '', 'base64'));
  return before === undefined ? { state, sameContent: false, undiffable: true } : { state, sameContent: false, before };
}

/** Throws the "not there yet" case when the owner or group `wanted` for `path` is not on the host. */
export async function requirePrincipals(ctx: ModuleContext, path: string, wanted: WantedAttrs): Promise<void> {
  const need = needArgs(wanted, undefined);
  if (!need[1] && !need[2]) return;
  const r = await hostSh(ctx, `${NEED_FN}\nneed "$@"`, need);
  if (r.rc !== 0) throw new ModuleError(`looking up ${need.filter(Boolean).join(', ')} failed: ${tail(r.stderr)}`);
  const missing = missingFor(r.stdout.split('\n')[0], path, need);
  if (missing) throw missing;
}

/** Pure: the changes that make `dest` hold the wanted bytes and attributes. */
export function planDest(want: WantedFile, dest: DestState): Plan<DestOp> {
  const { state } = dest;
  const after = asText(want.content);
  const path = want.dest;
  if (state.type === 'directory' || state.type === 'other') {
    throw new ModuleError(`${path} is a ${state.type}; name the file to write`);
  }
  const checksum = sha256(want.content);
  const result = { dest: path, checksum };
  const attrs = definedAttrs(want);
  const data = want.from === undefined ? want.content : { path: want.from, size: want.content.length, sha256: checksum };
  // Attributes go with the bytes: set on the temp file before the rename, no reader sees them wrong.
  const write: WriteOp = { kind: 'write', path, data, sha256: checksum, ...attrs, ...(want.backup && state.type === 'file' && { backup: true }) };
  const diff = (before: string | undefined) =>
    before !== undefined && after !== undefined ? { diff: { path, before, after } } : {};
  if (state.type === 'absent') {
    return { changes: [{ description: `create ${path}${describeAttrs(want)}`, ...diff(''), op: write }], result };
  }
  if (state.type === 'link') {
    return { changes: [{ description: `replace symlink ${path} (→ ${state.linkTarget}) with a file${describeAttrs(want)}`, ...diff(''), op: write }], result };
  }
  const changes: Change<DestOp>[] = [];
  if (!dest.sameContent) {
    const how = dest.undiffable || after === undefined ? ' (binary or large: no diff)' : '';
    changes.push({ description: `content of ${path} differs${how}`, ...diff(dest.before), op: write });
  }
  changes.push(...attrChanges(path, want, state));
  return { changes, msg: changes.length ? undefined : `${path} as wanted`, result };
}

/** The bytes a write puts on the host; a controller file that changed since it was planned is refused. */
async function bytesOf(op: WriteOp): Promise<Buffer> {
  const bytes = Buffer.isBuffer(op.data) ? op.data : await readController(op.data);
  // No digest in the message: that of changed content is not masked, and it may hold a secret.
  if (sha256(bytes) !== op.sha256) {
    const what = Buffer.isBuffer(op.data) ? 'the planned bytes do' : `${op.data.path} (now ${bytes.length} bytes, planned ${op.data.size}) does`;
    throw new ModuleError(`${op.path}: ${what} not match the plan's sha256 (changed since it was planned?): not written; plan again`);
  }
  return bytes;
}

async function readController(f: ControllerFile): Promise<Buffer> {
  try {
    return await readFile(f.path);
  } catch (e) {
    throw new ModuleError(`cannot read ${f.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Runs the operations: writes (atomically, keeping a backup if asked) and attribute fixes. */
export async function applyDest(ctx: ModuleContext, ops: readonly DestOp[]): Promise<ApplyResult> {
  const result: Record<string, unknown> = {};
  for (const op of ops) {
    if (op.kind === 'attrs') {
      const r = await hostSh(ctx, ['set -e', ...attrCommands(op.path, op, op.link === true)].join('\n'));
      if (r.rc !== 0) throw new ModuleError(`setting attributes of ${op.path} failed: ${tail(r.stderr)}`);
      continue;
    }
    const bytes = await bytesOf(op);
    if (op.backup) {
      const r = await hostSh(ctx, 'b="$1.$(date +%Y-%m-%d@%H:%M:%S)~" && cp -p -- "$1" "$b" && printf %s "$b"', [op.path]);
      if (r.rc !== 0) throw new ModuleError(`backup of ${op.path} failed: ${tail(r.stderr)}`);
      result.backup_file = r.stdout;
    }
    try {
      await ctx.conn.writeFile(op.path, bytes, definedAttrs(op));
    } catch (e) {
      throw new ModuleError((e as Error).message, { dest: op.path, ...result });
    }
  }
  return { result };
}
