import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { ControllerFile } from '../../runner/connection/connection.js';
import { holdsSecret, registerSecret } from '../../runner/secret.js';
import { ModuleError, type ApplyResult, type Change, type ModuleContext, type Plan } from '../../runner/types.js';
import { tail } from '../host/tail.js';
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

/** Bytes held in memory (small: a diff can show them), or a large controller file sent as it is read. */
export type WantedContent = Buffer | ControllerFile;

/** What copy and template want at `dest`: exact bytes plus attributes. */
export interface WantedFile extends WantedAttrs {
  dest: string;
  content: WantedContent;
  /** The controller file small `content` was read from: the write operation names it instead of holding the bytes. */
  from?: string;
  backup?: boolean;
}

/**
 * Writes a whole file atomically with its attributes: bytes made on the controller (rendered,
 * inline), or a controller file. `backup` first copies the file there aside.
 */
export interface WriteOp extends WantedAttrs {
  kind: 'write';
  path: string;
  /** A controller file is sent as it is read, and the host checks its sha256 before the rename. */
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

function digestOf(c: WantedContent): string {
  return Buffer.isBuffer(c) ? sha256(c) : c.sha256;
}

// A controller file is read once per run however many hosts it goes to; a changed file (size,
// mtime, inode) is read again.
const controllerFiles = new Map<string, { version: string; content: Promise<WantedContent> }>();

/**
 * The content of a controller file: its bytes when small enough to diff, else its path, size and
 * sha256 (hashed streaming, never held whole). Throws the fs error of a file that cannot be read.
 */
export async function controllerContent(path: string): Promise<WantedContent> {
  const st = await stat(path);
  const version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  const known = controllerFiles.get(path);
  if (known?.version === version) return known.content;
  const content = st.size <= DIFF_LIMIT ? readFile(path) : hashLarge(path);
  controllerFiles.set(path, { version, content });
  content.catch(() => controllerFiles.delete(path));
  return content;
}

// Secrets are looked for across chunk boundaries in this much of the previous chunk's text.
const SECRET_OVERLAP = 4096;

async function hashLarge(path: string): Promise<ControllerFile> {
  const hash = createHash('sha256');
  const text = new StringDecoder('utf8');
  let size = 0;
  let tail = '';
  let secret = false;
  // Small pieces: the text made of each for the secret scan stays short-lived young garbage
  // (large strings live until a full collection and hold RSS up).
  for await (const chunk of createReadStream(path, { highWaterMark: 32 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    const t = tail + text.write(chunk);
    secret ||= holdsSecret(t);
    tail = t.slice(-SECRET_OVERLAP);
  }
  const file = { path, size, sha256: hash.digest('hex') };
  // As for small files (applyDest): the digest of a file holding a secret is masked as the secret is.
  if (secret) registerSecret(file.sha256);
  return file;
}

export async function gatherDest(ctx: ModuleContext, want: WantedFile): Promise<DestState> {
  const need = needArgs(want, posix.dirname(want.dest));
  const checksum = digestOf(want.content);
  // The digest of a file that holds a secret tests guesses of it offline (the rest of the file is
  // known from its template): masked as the secret is, before any result can show it (a large
  // controller file's when it is hashed).
  if (Buffer.isBuffer(want.content) && holdsSecret(want.content.toString('utf8'))) registerSecret(checksum);
  const r = await ctx.conn.sh(GATHER, [want.dest, checksum, String(DIFF_LIMIT), ...need]);
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
  const r = await ctx.conn.sh(`${NEED_FN}\nneed "$@"`, need);
  if (r.rc !== 0) throw new ModuleError(`looking up ${need.filter(Boolean).join(', ')} failed: ${tail(r.stderr)}`);
  const missing = missingFor(r.stdout.split('\n')[0], path, need);
  if (missing) throw missing;
}

/** Pure: the changes that make `dest` hold the wanted bytes and attributes. */
export function planDest(want: WantedFile, dest: DestState): Plan<DestOp> {
  const { state } = dest;
  const after = Buffer.isBuffer(want.content) ? asText(want.content) : undefined;
  const path = want.dest;
  if (state.type === 'directory' || state.type === 'other') {
    throw new ModuleError(`${path} is a ${state.type}; name the file to write`);
  }
  const checksum = digestOf(want.content);
  const result = { dest: path, checksum };
  const attrs = definedAttrs(want);
  const { content, from } = want;
  const data = !Buffer.isBuffer(content) || from === undefined ? content : { path: from, size: content.length, sha256: checksum };
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

/** Planned bytes that are not what was planned (an operation edited after planning) are refused. */
function checkPlanned(op: WriteOp): void {
  // No digest in the message: that of changed content is not masked, and it may hold a secret.
  if (Buffer.isBuffer(op.data) ? sha256(op.data) !== op.sha256 : op.data.sha256 !== op.sha256) {
    throw new ModuleError(`${op.path}: the planned bytes do not match the plan's sha256: not written; plan again`);
  }
}

/** Runs the operations: writes (atomically, keeping a backup if asked) and attribute fixes. */
export async function applyDest(ctx: ModuleContext, ops: readonly DestOp[]): Promise<ApplyResult> {
  const result: Record<string, unknown> = {};
  for (const op of ops) {
    if (op.kind === 'attrs') {
      const r = await ctx.conn.sh(['set -e', ...attrCommands(op.path, op, op.link === true)].join('\n'));
      if (r.rc !== 0) throw new ModuleError(`setting attributes of ${op.path} failed: ${tail(r.stderr)}`);
      continue;
    }
    checkPlanned(op);
    if (op.backup) {
      const r = await ctx.conn.sh('b="$1.$(date +%Y-%m-%d@%H:%M:%S)~" && cp -p -- "$1" "$b" && printf %s "$b"', [op.path]);
      if (r.rc !== 0) throw new ModuleError(`backup of ${op.path} failed: ${tail(r.stderr)}`);
      result.backup_file = r.stdout;
    }
    try {
      await ctx.conn.writeFile(op.path, op.data, definedAttrs(op));
    } catch (e) {
      throw new ModuleError((e as Error).message, { dest: op.path, ...result });
    }
  }
  return { result };
}
