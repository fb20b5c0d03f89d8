// A project template (templates/NAME, or an absolute path on the controller) rendered with the task's
// variables: what the template module writes, and what redis_config compares a running Redis with.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { revealAll } from '../../runner/secret.js';
import { ModuleError, type ModuleContext } from '../../runner/types.js';
import { renderTemplate } from '../../runner/vars/render-template.js';

/**
 * The host's variables with Secrets revealed as Mustache reads them, one name at a time: the engine's
 * view resolves variables lazily, and copying it whole would resolve (and might fail on) every one.
 */
function revealing(vars: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return new Proxy(vars as Record<string, unknown>, { get: (target, name) => revealAll(Reflect.get(target, name)) });
}

/** `shown` names the template as errors and messages do (project-relative where it can). */
export async function renderProjectTemplate(ctx: ModuleContext, src: string, module: string): Promise<{ shown: string; rendered: string }> {
  const file = isAbsolute(src) ? src : join(ctx.projectDir, 'templates', src);
  const shown = relative(ctx.projectDir, file).startsWith('..') ? file : relative(ctx.projectDir, file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ModuleError(`${module}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return { shown, rendered: renderTemplate(shown, text, revealing(ctx.vars)) };
  } catch (e) {
    throw new ModuleError((e as Error).message);
  }
}
