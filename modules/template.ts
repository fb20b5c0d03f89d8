import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { Type } from '@sinclair/typebox';
import { revealAll } from '../runner/secret.js';
import { defineModule, ModuleError, type ModuleContext } from '../runner/types.js';
import { hasTemplate } from '../runner/vars/interpolate.js';
import { checkJinja, renderJinja } from '../runner/vars/render-jinja.js';
import { checkTemplate, renderTemplate } from '../runner/vars/render-template.js';
import { attrArgs } from './lib/file-attrs.js';
import { applyDest, gatherDest, planDest, type DestState, type WantedFile } from './lib/file-content.js';

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

/**
 * The host's variables with Secrets revealed as Mustache reads them, one name at a time: the engine's
 * view resolves variables lazily, and copying it whole would resolve (and might fail on) every one.
 */
function revealing(vars: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return new Proxy(vars as Record<string, unknown>, { get: (target, name) => revealAll(Reflect.get(target, name)) });
}

const JINJA = /\.(j2|jinja2?)$/i;

/**
 * The file rendered by the engine its name says. Jinja syntax in a file not named as either is
 * refused: Mustache would write `{% if %}` lines to the host as they are.
 */
function render(shown: string, text: string, ctx: ModuleContext): string {
  if (JINJA.test(shown)) return renderJinja(shown, text, (expr, locals) => ctx.evaluate(expr, locals));
  refuseJinjaInMustache(shown, text);
  return renderTemplate(shown, text, revealing(ctx.vars));
}

function refuseJinjaInMustache(shown: string, text: string): void {
  const statement = text.indexOf('{%');
  if (statement !== -1 && !/\.mustache$/i.test(shown)) {
    const before = text.slice(0, statement);
    const line = before.split('\n').length;
    const col = statement - before.lastIndexOf('\n');
    throw new ModuleError(`${shown}:${line}:${col}: Jinja syntax ({%) in a file rendered as Mustache: name it .j2 to render it as Jinja (or .mustache if the {% is meant as text)`);
  }
}

/** Where a template lives on the controller, and how messages name it (relative to the project). */
function templateFile(projectDir: string, src: string): { file: string; shown: string } {
  const file = isAbsolute(src) ? src : join(projectDir, 'templates', src);
  return { file, shown: relative(projectDir, file).startsWith('..') ? file : relative(projectDir, file) };
}

interface TemplateState {
  want: WantedFile;
  dest: DestState;
}

/**
 * Renders a template on the controller with the host's variables (Jinja or Mustache by its name;
 * undefined names are errors; secrets as their real text), then writes it like copy: atomic,
 * diffable, attributes checked.
 */
export const template = defineModule({
  name: 'template',
  schema,
  async gather(ctx, args): Promise<TemplateState> {
    const { file, shown } = templateFile(ctx.projectDir, args.src);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new ModuleError(`template: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let rendered: string;
    try {
      rendered = render(shown, text, ctx);
    } catch (e) {
      throw new ModuleError((e as Error).message);
    }
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
    const src = args.src;
    if (typeof src !== 'string' || hasTemplate(src)) return;
    const { file, shown } = templateFile(ctx.projectDir, src);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new ModuleError(`template: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (JINJA.test(shown)) return checkJinja(shown, text);
    refuseJinjaInMustache(shown, text);
    checkTemplate(shown, text);
  },
  plan: (_args, s) => planDest(s.want, s.dest),
  apply: (ctx, _args, _plan, s) => applyDest(ctx, s.want, s.dest),
});
