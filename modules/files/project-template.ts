// A project template (templates/NAME, or an absolute path on the controller) rendered with the task's
// variables: what the template module writes, and what redis_config compares a running Redis with.
// The file's name picks the engine: `.j2`, `.jinja`, `.jinja2` are Jinja, anything else Mustache.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { revealAll } from '../../runner/secret.js';
import { ModuleError, type ModuleContext } from '../../runner/types.js';
import { checkJinja, renderJinja } from '../../runner/vars/render-jinja.js';
import { checkTemplate, renderTemplate } from '../../runner/vars/render-template.js';

const JINJA = /\.(j2|jinja2?)$/i;

/**
 * The host's variables with Secrets revealed as Mustache reads them, one name at a time: the engine's
 * view resolves variables lazily, and copying it whole would resolve (and might fail on) every one.
 */
function revealing(vars: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return new Proxy(vars as Record<string, unknown>, { get: (target, name) => revealAll(Reflect.get(target, name)) });
}

/** The template's text, and how messages name it (project-relative where it can). */
async function readProjectTemplate(projectDir: string, src: string, module: string): Promise<{ shown: string; text: string }> {
  const file = isAbsolute(src) ? src : join(projectDir, 'templates', src);
  const shown = relative(projectDir, file).startsWith('..') ? file : relative(projectDir, file);
  try {
    return { shown, text: await readFile(file, 'utf8') };
  } catch (e) {
    throw new ModuleError(`${module}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Mustache would write `{% if %}` lines to the host as they are: Jinja syntax in a file not named as Jinja is refused. */
function refuseJinjaInMustache(shown: string, text: string): void {
  const statement = text.indexOf('{%');
  if (statement === -1 || /\.mustache$/i.test(shown)) return;
  const before = text.slice(0, statement);
  const line = before.split('\n').length;
  const col = statement - before.lastIndexOf('\n');
  throw new ModuleError(`${shown}:${line}:${col}: Jinja syntax ({%) in a file rendered as Mustache: name it .j2 to render it as Jinja (or .mustache if the {% is meant as text)`);
}

export async function renderProjectTemplate(ctx: ModuleContext, src: string, module: string): Promise<{ shown: string; rendered: string }> {
  const { shown, text } = await readProjectTemplate(ctx.projectDir, src, module);
  try {
    if (JINJA.test(shown)) return { shown, rendered: renderJinja(shown, text, (expr, locals) => ctx.evaluate(expr, locals)) };
    refuseJinjaInMustache(shown, text);
    return { shown, rendered: renderTemplate(shown, text, revealing(ctx.vars)) };
  } catch (e) {
    throw new ModuleError((e as Error).message);
  }
}

/** Read and parse a template before any host is contacted; throws what rendering would. */
export async function checkProjectTemplate(projectDir: string, src: string, module: string): Promise<void> {
  const { shown, text } = await readProjectTemplate(projectDir, src, module);
  if (JINJA.test(shown)) return checkJinja(shown, text);
  refuseJinjaInMustache(shown, text);
  checkTemplate(shown, text);
}
