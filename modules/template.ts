import { Type } from '@sinclair/typebox';
import { defineModule } from '../runner/types.js';
import { hasTemplate } from '../runner/vars/interpolate.js';
import { attrArgs } from './files/file-attrs.js';
import { checkProjectTemplate, renderProjectTemplate } from './files/project-template.js';
import { applyDest, gatherDest, planDest, type DestOp, type DestState, type WantedFile } from './files/file-content.js';

const schema = Type.Object(
  {
    /**
     * A file under the project's templates/ folder (or an absolute path on the controller): `.j2`,
     * `.jinja`, `.jinja2` are Jinja, anything else is Mustache.
     */
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
 * Renders a template on the controller with the host's variables (Jinja or Mustache by its name;
 * undefined names are errors; secrets as their real text), then writes it like copy: atomic,
 * diffable, attributes checked.
 */
export const template = defineModule<typeof schema, TemplateState, DestOp>({
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
  // A template file named as written is read and parsed before any host is contacted (a src with
  // {{ }} is known only per host).
  async checkAtLoad(args, ctx): Promise<void> {
    if (typeof args.src === 'string' && !hasTemplate(args.src)) await checkProjectTemplate(ctx.projectDir, args.src, 'template');
  },
  plan: (_args, s) => planDest(s.want, s.dest),
  apply: applyDest,
});
