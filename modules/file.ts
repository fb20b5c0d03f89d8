import { Type } from '@sinclair/typebox';
import { shQuote } from '../runner/connection/quote.js';
import { posix } from 'node:path';
import { defineModule, ModuleError, NotYetThere, type Change } from '../runner/types.js';
import { tail } from './host/tail.js';
import {
  attrArgs,
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
} from './files/file-attrs.js';

const schema = Type.Object(
  {
    path: Type.String({ minLength: 1 }),
    state: Type.Optional(
      Type.Union([Type.Literal('file'), Type.Literal('directory'), Type.Literal('absent'), Type.Literal('link'), Type.Literal('touch')]),
    ),
    /** Target of a symlink (state: link). */
    src: Type.Optional(Type.String({ minLength: 1 })),
    ...attrArgs,
  },
  {
    additionalProperties: false,
    // A link needs its target; checked with the rest of the args, before any host is touched.
    if: { properties: { state: { const: 'link' } }, required: ['state'] },
    then: { required: ['src'] },
  },
);

/** What file's apply does to one path. */
export type FileOp =
  | AttrOp
  | ({ kind: 'mkdir'; path: string } & WantedAttrs)
  /** Creates an empty file only if nothing is there by then: never truncates. */
  | ({ kind: 'touch'; path: string } & WantedAttrs)
  /** Points the symlink at `target`, replacing a link already there. */
  | { kind: 'link'; path: string; target: string; owner?: string; group?: string }
  | { kind: 'remove'; path: string };

/** The sh lines of an operation, and what it does in a failure message. */
function script(op: FileOp): { lines: string[]; doing: string } {
  const p = shQuote(op.path);
  switch (op.kind) {
    case 'remove':
      return { lines: [`rm -rf -- ${p}`], doing: 'removing it' };
    case 'mkdir':
      return { lines: [`mkdir -p -- ${p}`, ...attrCommands(op.path, op)], doing: 'creating the directory' };
    case 'touch':
      return { lines: [`[ -e ${p} ] || : > ${p}`, ...attrCommands(op.path, op)], doing: 'creating the file' };
    case 'link':
      return { lines: [`ln -sfn -- ${shQuote(op.target)} ${p}`, ...attrCommands(op.path, op, true)], doing: `linking it to ${op.target}` };
    case 'attrs':
      return { lines: attrCommands(op.path, op, op.link === true), doing: 'setting its attributes' };
  }
}

function what(s: PathState): string {
  return s.type === 'link' ? `a symlink to ${s.linkTarget}` : `a ${s.type}`;
}

/** State of a path: a directory, a file's attributes, a symlink, or nothing there. */
export const file = defineModule<typeof schema, PathState, FileOp>({
  name: 'file',
  schema,
  async gather(ctx, args): Promise<PathState> {
    const state = args.state ?? 'file';
    // What must exist first: the folder of a new file or link (a directory's are made with it), and
    // the owner and group unless the path is to go.
    const folder = state === 'touch' || state === 'link' ? posix.dirname(args.path) : undefined;
    const need = state === 'absent' ? needArgs({}, undefined) : needArgs(args, folder);
    const r = await ctx.conn.sh(`${STAT_FN}\n${NEED_FN}\nneed "$2" "$3" "$4"\nst "$1"`, [args.path, ...need]);
    if (r.rc !== 0) throw new ModuleError(`cannot stat ${args.path}: ${tail(r.stderr)}`);
    const [needLine = '', ...lines] = r.stdout.split('\n');
    const missing = missingFor(needLine, args.path, need);
    if (missing) throw missing;
    return parseStat(lines, args.path).state;
  },
  plan(args, actual) {
    const path = args.path;
    const state = args.state ?? 'file';
    const attrs = definedAttrs(args);
    const result = { path, state };
    const attrsOrOk = (okMsg: string) => {
      const changes = attrChanges(path, attrs, actual);
      return { changes, msg: changes.length ? undefined : okMsg, result };
    };
    const one = (change: Change<FileOp>) => ({ changes: [change], result });
    switch (state) {
      case 'absent':
        if (actual.type === 'absent') return { changes: [], msg: `${path} already absent`, result };
        return one({ description: `remove ${path} (${what(actual)})`, op: { kind: 'remove', path } });
      case 'directory':
        if (actual.type === 'absent') return one({ description: `create directory ${path}${describeAttrs(attrs)}`, op: { kind: 'mkdir', path, ...attrs } });
        if (actual.type !== 'directory') throw new ModuleError(`${path} is ${what(actual)}, not a directory`);
        return attrsOrOk(`directory ${path} as wanted`);
      case 'file':
        if (actual.type === 'absent') throw new NotYetThere(`${path} does not exist (state: touch creates an empty file)`, `file ${path}`);
        if (actual.type !== 'file') throw new ModuleError(`${path} is ${what(actual)}, not a file`);
        return attrsOrOk(`file ${path} as wanted`);
      case 'touch':
        // An existing file is left as it is (no timestamp update), so a converged run stays changed=0.
        if (actual.type === 'absent') return one({ description: `create empty file ${path}${describeAttrs(attrs)}`, op: { kind: 'touch', path, ...attrs } });
        return attrsOrOk(`${path} exists`);
      case 'link': {
        const target = args.src as string;
        const link = definedAttrs({ owner: args.owner, group: args.group });
        const op: FileOp = { kind: 'link', path, target, ...link };
        if (actual.type === 'absent') return one({ description: `link ${path} → ${target}`, op });
        if (actual.type !== 'link') throw new ModuleError(`${path} is ${what(actual)}; refusing to replace it with a symlink`);
        const changes: Change<FileOp>[] = [];
        if (actual.linkTarget !== target) changes.push({ description: `link ${path} → ${target} (was → ${actual.linkTarget})`, op });
        changes.push(...attrChanges(path, link, actual));
        return { changes, msg: changes.length ? undefined : `link ${path} → ${target}`, result };
      }
    }
  },
  async apply(ctx, ops) {
    // One round trip per operation, so a failure names the step that failed.
    for (const op of ops) {
      const { lines, doing } = script(op);
      const r = await ctx.conn.sh(['set -e', ...lines].join('\n'));
      if (r.rc !== 0) throw new ModuleError(`file ${op.path}: ${doing} failed: ${tail(r.stderr)}`, { rc: r.rc, stderr: r.stderr });
    }
  },
});
