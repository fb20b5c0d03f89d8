import Mustache from 'mustache';

type Token = Parameters<Mustache.Writer['renderSection']>[0];
type Ctx = Mustache.Context;

/** A template named a variable that the view does not define. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Mustache's own renderer, with every lookup checked: a name that resolves to nothing anywhere on
 * the context stack fails instead of rendering "". Checking during rendering (rather than walking
 * the tokens beforehand) follows Mustache's own scoping exactly: a name inside a section resolves
 * against that section's item first, and the body of a section that does not render is not checked.
 */
class StrictWriter extends Mustache.Writer {
  constructor(
    private readonly file: string,
    private readonly text: string,
  ) {
    super();
  }

  private fail(token: Token, what: string): never {
    // token[2] is the tag's offset in the template.
    const at = typeof token[2] === 'number' ? token[2] : Number(token[2]);
    throw new TemplateError(`${this.file}:${lineOf(this.text, at)}: ${what} '${token[1]}'`);
  }

  private need(token: Token, context: Ctx): unknown {
    const value: unknown = context.lookup(token[1]);
    if (value === undefined) this.fail(token, 'undefined variable');
    return value;
  }

  override renderSection(token: Token, context: Ctx, partials?: unknown, originalTemplate?: string, config?: unknown): string {
    this.need(token, context);
    return super.renderSection(token, context, partials as never, originalTemplate as never, config as never);
  }

  override renderInverted(token: Token, context: Ctx, partials?: unknown, originalTemplate?: string, config?: unknown): string {
    this.need(token, context);
    return super.renderInverted(token, context, partials as never, originalTemplate as never, config as never);
  }

  override renderPartial(token: Token): string {
    return this.fail(token, 'partials are not supported, found partial');
  }

  override unescapedValue(token: Token, context: Ctx): string {
    return this.value(token, context);
  }

  override escapedValue(token: Token, context: Ctx): string {
    // Escaping is off for every tag: config files, not HTML, and a password with & or < must land verbatim.
    return this.value(token, context);
  }

  private value(token: Token, context: Ctx): string {
    const v = this.need(token, context);
    if (v === null) this.fail(token, 'variable is null, would render nothing:');
    // "[object Object]" in a config file is never what was meant.
    if (typeof v === 'object' && !Array.isArray(v)) this.fail(token, 'variable is a mapping, not a value:');
    return String(v);
  }
}

/**
 * Render a Mustache template with HTML escaping off and strict names. `file` only names the
 * template in error messages ("templates/redis.conf:12: undefined variable 'port'").
 */
export function renderTemplate(file: string, text: string, view: Record<string, unknown>): string {
  try {
    return new StrictWriter(file, text).render(text, view);
  } catch (e) {
    if (e instanceof TemplateError) throw e;
    // Mustache's parse errors ("Unclosed section "x" at 42") carry an offset but not the file.
    const msg = e instanceof Error ? e.message : String(e);
    const at = /at (\d+)$/.exec(msg);
    throw new TemplateError(at ? `${file}:${lineOf(text, Number(at[1]))}: ${msg}` : `${file}: ${msg}`);
  }
}

type ParsedToken = [string, string, number, number, ParsedToken[]?, number?];

/**
 * Parse a template as renderTemplate would, without rendering it: what can be known before any host
 * is contacted (syntax, partials) fails here with the file and line.
 */
export function checkTemplate(file: string, text: string): void {
  let tokens: ParsedToken[];
  try {
    tokens = Mustache.parse(text) as unknown as ParsedToken[];
  } catch (e) {
    // Mustache's messages end in a character offset; the line says it better.
    throw new TemplateError(`${file}:${parseErrorLine(text, e)}: ${(e instanceof Error ? e.message : String(e)).replace(/ at \d+$/, '')}`);
  }
  const walk = (list: readonly ParsedToken[]): void => {
    for (const t of list) {
      if (t[0] === '>') throw new TemplateError(`${file}:${lineOf(text, t[2])}: partials are not supported, found partial '${t[1]}'`);
      if (t[4]) walk(t[4]);
    }
  };
  walk(tokens);
}

/**
 * The line a Mustache parse error is about. Mustache reports an unclosed section at the end of the
 * text; the line that opens it is what the author needs, found by parsing again with it closed.
 */
function parseErrorLine(text: string, e: unknown): number {
  const msg = e instanceof Error ? e.message : '';
  const at = /at (\d+)$/.exec(msg);
  const end = at ? lineOf(text, Number(at[1])) : 1;
  const unclosed = /^Unclosed section "(.*)" at \d+$/.exec(msg);
  if (!unclosed) return end;
  let tokens: ParsedToken[];
  try {
    tokens = Mustache.parse(`${text}{{/${unclosed[1]}}}`) as unknown as ParsedToken[];
  } catch {
    return end;
  }
  const find = (list: readonly ParsedToken[]): ParsedToken | undefined => {
    for (const t of list) {
      if ((t[0] === '#' || t[0] === '^') && t[1] === unclosed[1] && t[5] === text.length) return t;
      const inner = t[4] && find(t[4]);
      if (inner) return inner;
    }
    return undefined;
  };
  const open = find(tokens);
  return open ? lineOf(text, open[2]) : end;
}
