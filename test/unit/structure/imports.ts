// Which files a TypeScript source imports, and whether that breaks the direction dependencies run in
// (README "Layout"). The TypeScript package here is the native compiler, which has no parser API, so
// this is a small scanner: it skips comments, strings, template literals and regular expressions,
// and reports `… from '…'`, `import '…'`, `import('…')` and `require('…')`.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

export interface FoundImport {
  /** As written, e.g. '../../modules/registry.js'; undefined for `import(expr)` of a computed name. */
  specifier: string | undefined;
  line: number;
  col: number;
  dynamic: boolean;
}

type Token = { kind: 'name' | 'punct' | 'string' | 'other'; text: string; line: number; col: number };

// After these a `/` starts a regular expression, not a division.
const BEFORE_EXPRESSION = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await']);

function tokens(text: string, file: string): Token[] {
  const out: Token[] = [];
  // Open template literals: the brace depth at which each one's `${` was entered.
  const templates: number[] = [];
  let depth = 0;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const advanceTo = (end: number): void => {
    for (; i < end; i++) if (text[i] === '\n') (line++, (lineStart = i + 1));
  };
  const push = (kind: Token['kind'], t: string, atLine: number, atCol: number): void => void out.push({ kind, text: t, line: atLine, col: atCol });
  const regexAllowed = (): boolean => {
    const prev = out[out.length - 1];
    if (!prev) return true;
    if (prev.kind === 'name') return BEFORE_EXPRESSION.has(prev.text);
    if (prev.kind === 'string' || prev.kind === 'other') return false;
    return !(prev.text === ')' || prev.text === ']' || prev.text === '}');
  };
  // Scans a template literal's text from i (just after '`' or a closing '}') to its end or next `${`.
  const templateText = (): void => {
    while (i < text.length) {
      const c = text[i];
      if (c === '\\') advanceTo(i + 2);
      else if (c === '`') {
        advanceTo(i + 1);
        push('other', 'template', line, i - lineStart);
        return;
      } else if (c === '$' && text[i + 1] === '{') {
        advanceTo(i + 2);
        templates.push(depth++);
        return;
      } else advanceTo(i + 1);
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    const col = i - lineStart + 1;
    const startLine = line;
    if (/\s/.test(c)) advanceTo(i + 1);
    else if (c === '/' && text[i + 1] === '/') advanceTo(text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i));
    else if (c === '/' && text[i + 1] === '*') advanceTo(text.indexOf('*/', i + 2) < 0 ? text.length : text.indexOf('*/', i + 2) + 2);
    else if (c === "'" || c === '"') {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== c && text[j] !== '\n') {
        if (text[j] === '\\') j++;
        value += text[j];
        j++;
      }
      advanceTo(j + 1);
      push('string', value, startLine, col);
    } else if (c === '`') {
      advanceTo(i + 1);
      templateText();
    } else if (c === '/' && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < text.length && text[j] !== '\n' && (inClass || text[j] !== '/')) {
        if (text[j] === '\\') j++;
        else if (text[j] === '[') inClass = true;
        else if (text[j] === ']') inClass = false;
        j++;
      }
      j++;
      while (j < text.length && /[a-z]/.test(text[j]!)) j++;
      advanceTo(j);
      push('other', 'regex', startLine, col);
    } else if (/[A-Za-z_$0-9]/.test(c)) {
      let j = i;
      while (j < text.length && /[A-Za-z_$0-9]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      advanceTo(j);
      push(/^[0-9]/.test(word) ? 'other' : 'name', word, startLine, col);
    } else {
      advanceTo(i + 1);
      if (c === '{') depth++;
      if (c === '}') {
        if (templates.length && templates[templates.length - 1] === depth - 1) {
          depth--;
          templates.pop();
          templateText();
          continue;
        }
        depth--;
      }
      push('punct', c, startLine, col);
    }
  }
  // Unbalanced braces at the end mean a regular expression or string was misread: say so rather
  // than report imports from a misread file.
  if (depth !== 0 || templates.length) throw new Error(`cannot scan ${file}: braces do not balance (a regular expression or string misread)`);
  return out;
}

export function importsOf(text: string, file = 'source'): FoundImport[] {
  const t = tokens(text, file);
  const found: FoundImport[] = [];
  for (let k = 0; k < t.length; k++) {
    const tok = t[k]!;
    if (tok.kind !== 'name' || t[k - 1]?.text === '.') continue;
    const next = t[k + 1];
    const at = (s: Token): FoundImport => ({ specifier: s.text, line: s.line, col: s.col, dynamic: false });
    if ((tok.text === 'from' || tok.text === 'import') && next?.kind === 'string') found.push(at(next));
    else if ((tok.text === 'import' || tok.text === 'require') && next?.text === '(') {
      const arg = t[k + 2];
      const literal = arg?.kind === 'string' && t[k + 3]?.text === ')';
      if (literal) found.push({ ...at(arg), dynamic: true });
      else if (tok.text === 'import') found.push({ specifier: undefined, line: tok.line, col: tok.col, dynamic: true });
    }
  }
  return found;
}

/** Where a repository file sits in the layout: runner/cli (the CLI's wiring) apart from the engine. */
export function areaOf(path: string): string {
  if (path === 'runner/cli.ts' || path.startsWith('runner/cli/')) return 'runner/cli';
  return path.split('/')[0]!;
}

/** Area → the areas it must not import. */
const FORBIDDEN: Record<string, readonly string[]> = {
  runner: ['modules', 'lab', 'test', 'bench'],
  modules: ['lab', 'test', 'bench', 'runner/cli'],
  lab: ['test', 'bench'],
};

export interface Violation {
  /** Repository-relative, e.g. runner/execution/run-task.ts. */
  file: string;
  /** Repository-relative file imported (.ts), or undefined for a computed import(). */
  target: string | undefined;
  message: string;
}

/** The imports among `files` (repository-relative posix path → source) that break the direction. */
export function violations(files: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, text] of files) {
    const forbidden = FORBIDDEN[areaOf(file)];
    if (!forbidden) continue;
    for (const imp of importsOf(text, file)) {
      const where = `${file}:${imp.line}:${imp.col}`;
      if (imp.specifier === undefined) {
        out.push({ file, target: undefined, message: `${where}: import() of a computed name, whose target cannot be checked: import a literal path` });
        continue;
      }
      if (!imp.specifier.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), imp.specifier)).replace(/\.js$/, '.ts');
      const area = areaOf(target);
      if (forbidden.includes(area)) {
        out.push({
          file,
          target,
          message: `${where}: ${areaOf(file)} must not import ${area}/ (${imp.dynamic ? 'import(' : ''}'${imp.specifier}'${imp.dynamic ? ')' : ''}): hand it in from runner/cli, or move it`,
        });
      }
    }
  }
  return out;
}

/** Every .ts file of the checked areas under `root`, as violations() takes them. */
export function sourceTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts')) files.set(relative(root, full).split(sep).join('/'), readFileSync(full, 'utf8'));
    }
  };
  for (const area of ['runner', 'modules', 'lab', 'test', 'bench']) walk(join(root, area));
  return files;
}
