import { Type } from '@sinclair/typebox';
import { defineModule } from '../runner/types.js';
import { attrArgs } from './lib/file-attrs.js';
import { renderProjectTemplate } from './lib/project-template.js';
import { applyDest, gatherDest, planDest, type DestState, type WantedFile } from './lib/file-content.js';

const schema = Type.Object(
  {
    /** A Mustache file under the project's templates/ folder (or an absolute path on the controller). */
    src: Type.String({ minLength: 1 }),
    dest: Type.String({ minLength: 1 }),
    backup: Type.Optional(Type.Boolean()),
    ...attrArgs,
  },
  { additionalProperties: false },
);

interface TemplateState {
  want: WantedFile;
  dest: DestState;
}

/**
 * Renders a Mustache template on the controller with the host's variables (escaping off, undefined
 * names are errors), then writes it like copy: atomic, diffable, attributes checked.
 */
export const template = defineModule({
  name: 'template',
  schema,
  async gather(ctx, args): Promise<TemplateState> {
    const { rendered } = await renderProjectTemplate(ctx, args.src, 'template');
    const want: WantedFile = {
      dest: args.dest,
      content: Buffer.from(rendered, 'utf8'),
      mode: args.mode,
      owner: args.owner,
      group: args.group,
      backup: args.backup,
    };
    return { want, dest: await gatherDest(ctx, want) };
  },
  plan: (_args, s) => planDest(s.want, s.dest),
  apply: (ctx, _args, _plan, s) => applyDest(ctx, s.want, s.dest),
});
