import { Type } from '@sinclair/typebox';
import { shQuote } from '../runner/connection/quote.js';
import { posix } from 'node:path';
import { defineModule, ModuleError, NotYetThere, type Change } from '../runner/types.js';
import { hostSh, tail } from './host/exec.js';
import { attrArgs, attrChanges, attrCommands, describeAttrs, missingFor, NEED_FN, needArgs, parseStat, STAT_FN, type PathState } from './files/file-attrs.js';

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

function what(s: PathState): string {
  return s.type === 'link' ? `a symlink to ${s.linkTarget}` : `a ${s.type}`;
}

/** State of a path: a directory, a file's attributes, a symlink, or nothing there. */
export const file = defineModule({
  name: 'file',
  schema,
  async gather(ctx, args): Promise<PathState> {
    const state = args.state ?? 'file';
    // What must exist first: the folder of a new file or link (a directory's are made with it), and
    // the owner and group unless the path is to go.
    const folder = state === 'touch' || state === 'link' ? posix.dirname(args.path) : undefined;
    const need = state === 'absent' ? needArgs({}, undefined) : needArgs(args, folder);
    const r = await hostSh(ctx, `${STAT_FN}\n${NEED_FN}\nneed "$2" "$3" "$4"\nst "$1"`, [args.path, ...need]);
    if (r.rc !== 0) throw new ModuleError(`cannot stat ${args.path}: ${tail(r.stderr)}`);
    const [needLine = '', ...lines] = r.stdout.split('\n');
    const missing = missingFor(needLine, args.path, need);
    if (missing) throw missing;
    return parseStat(lines, args.path).state;
  },
  plan(args, actual) {
    const path = args.path;
    const state = args.state ?? 'file';
    const attrs = { mode: args.mode, owner: args.owner, group: args.group };
    const attrsOrOk = (okMsg: string) => {
      const changes = attrChanges(path, attrs, actual);
      return { changes, msg: changes.length ? undefined : okMsg };
    };
    switch (state) {
      case 'absent':
        if (actual.type === 'absent') return { changes: [], msg: `${path} already absent` };
        return { changes: [{ description: `remove ${path} (${what(actual)})` }] };
      case 'directory':
        if (actual.type === 'absent') return { changes: [{ description: `create directory ${path}${describeAttrs(attrs)}` }] };
        if (actual.type !== 'directory') throw new ModuleError(`${path} is ${what(actual)}, not a directory`);
        return attrsOrOk(`directory ${path} as wanted`);
      case 'file':
        if (actual.type === 'absent') throw new NotYetThere(`${path} does not exist (state: touch creates an empty file)`, `file ${path}`);
        if (actual.type !== 'file') throw new ModuleError(`${path} is ${what(actual)}, not a file`);
        return attrsOrOk(`file ${path} as wanted`);
      case 'touch':
        // An existing file is left as it is (no timestamp update), so a converged run stays changed=0.
        if (actual.type === 'absent') return { changes: [{ description: `create empty file ${path}${describeAttrs(attrs)}` }] };
        return attrsOrOk(`${path} exists`);
      case 'link': {
        const src = args.src as string;
        const link = { owner: args.owner, group: args.group };
        if (actual.type === 'absent') return { changes: [{ description: `link ${path} → ${src}` }] };
        if (actual.type !== 'link') throw new ModuleError(`${path} is ${what(actual)}; refusing to replace it with a symlink`);
        const changes: Change[] = [];
        if (actual.linkTarget !== src) changes.push({ description: `link ${path} → ${src} (was → ${actual.linkTarget})` });
        changes.push(...attrChanges(path, link, actual));
        return { changes, msg: changes.length ? undefined : `link ${path} → ${src}` };
      }
    }
  },
  async legacyApply(ctx, args) {
    const p = shQuote(args.path);
    const attrs = { mode: args.mode, owner: args.owner, group: args.group };
    const state = args.state ?? 'file';
    const lines: string[] = ['set -e'];
    if (state === 'absent') lines.push(`rm -rf -- ${p}`);
    if (state === 'directory') lines.push(`mkdir -p -- ${p}`, ...attrCommands(args.path, attrs));
    if (state === 'touch') lines.push(`[ -e ${p} ] || : > ${p}`, ...attrCommands(args.path, attrs));
    if (state === 'file') lines.push(...attrCommands(args.path, attrs));
    if (state === 'link') {
      lines.push(`ln -sfn -- ${shQuote(args.src as string)} ${p}`, ...attrCommands(args.path, { owner: args.owner, group: args.group }, true));
    }
    const r = await hostSh(ctx, lines.join('\n'));
    if (r.rc !== 0) throw new ModuleError(`file ${args.path} (state ${state}) failed: ${tail(r.stderr)}`, { rc: r.rc, stderr: r.stderr });
    return { result: { path: args.path, state } };
  },
});
