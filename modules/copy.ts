import { basename, isAbsolute, join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineModule, ModuleError } from '../runner/types.js';
import { attrArgs } from './files/file-attrs.js';
import { applyDest, controllerContent, gatherDest, planDest, type DestOp, type DestState, type WantedContent, type WantedFile } from './files/file-content.js';

const schema = Type.Object(
  {
    dest: Type.String({ minLength: 1 }),
    /** Literal content of the file. */
    content: Type.Optional(Type.String()),
    /** A file on the controller: relative to the project's files/ folder, or absolute. */
    src: Type.Optional(Type.String({ minLength: 1 })),
    /** Keep a timestamped copy (DEST.YYYY-MM-DD@HH:MM:SS~) before overwriting. */
    backup: Type.Optional(Type.Boolean()),
    ...attrArgs,
  },
  { additionalProperties: false, oneOf: [{ required: ['content'] }, { required: ['src'] }] },
);

interface CopyState {
  want: WantedFile;
  dest: DestState;
}

/** Puts exact bytes (given inline or from a controller file) at a path on the host. */
export const copy = defineModule<typeof schema, CopyState, DestOp>({
  name: 'copy',
  schema,
  async gather(ctx, args): Promise<CopyState> {
    let content: WantedContent;
    let from: string | undefined;
    let dest = args.dest;
    if (args.src !== undefined) {
      from = isAbsolute(args.src) ? args.src : join(ctx.projectDir, 'files', args.src);
      try {
        content = await controllerContent(from);
      } catch (e) {
        throw new ModuleError(`copy: cannot read src ${from}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      // "dest: /etc/app/" means "into that folder, under the source's name".
      if (dest.endsWith('/')) dest += basename(args.src);
    } else {
      content = Buffer.from(args.content ?? '', 'utf8');
    }
    const want: WantedFile = { dest, content, from, mode: args.mode, owner: args.owner, group: args.group, backup: args.backup };
    return { want, dest: await gatherDest(ctx, want) };
  },
  plan: (_args, s) => planDest(s.want, s.dest),
  apply: applyDest,
});
