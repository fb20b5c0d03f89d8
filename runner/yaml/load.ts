// YAML as Ansible users expect it (YAML 1.1 like PyYAML: `yes/no/on/off` booleans, `0640` octal),
// converted to plain JS by hand so every mapping and sequence remembers where it came from: errors
// about user input can then name file:line:col of the offending key.
import { readFile } from 'node:fs/promises';
import {
  LineCounter,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node,
  type Scalar,
  type Tags,
} from 'yaml';
import { InputError, type SourcePos } from './input-error.js';

export { InputError, type SourcePos } from './input-error.js';

/** Where a container and each of its keys/items came from. */
interface Positions {
  self: SourcePos;
  /** Position of the key (mappings) or of the item (sequences). */
  entries: Map<string | number, SourcePos>;
}

const POSITIONS = Symbol('rplay.yaml.positions');

/**
 * Source position of a parsed mapping/sequence, or of one of its keys (mappings) / items (sequences).
 * Undefined for values that did not come from YAML (or were rebuilt since).
 */
export function positionOf(value: object, key?: string | number): SourcePos | undefined {
  const rec = (value as { [POSITIONS]?: Positions })[POSITIONS];
  if (!rec) return undefined;
  if (key === undefined) return rec.self;
  const k = Array.isArray(value) && typeof key === 'string' && /^\d+$/.test(key) ? Number(key) : key;
  return rec.entries.get(k) ?? rec.self;
}

/**
 * Position of the innermost key/item along `path` from `root` that still has one (e.g. an ajv error's
 * instancePath): the exact key when it exists, else the closest enclosing one.
 */
export function positionAtPath(root: unknown, path: readonly (string | number)[]): SourcePos | undefined {
  let node = root;
  let found = node && typeof node === 'object' ? positionOf(node) : undefined;
  for (const key of path) {
    if (!node || typeof node !== 'object') break;
    found = positionOf(node, key) ?? found;
    node = (node as Record<string | number, unknown>)[key];
  }
  return found;
}

/**
 * Give `target` (a value rebuilt from parsed YAML, e.g. a normalised task) the source positions of
 * `source`, so positionOf(target, 'when') still points at the `when:` the user wrote.
 */
export function copyPositions(source: object, target: object): void {
  const rec = (source as { [POSITIONS]?: Positions })[POSITIONS];
  if (rec) Object.defineProperty(target, POSITIONS, { value: rec, enumerable: false });
}

const BOOL = 'tag:yaml.org,2002:bool';
const TIMESTAMP = 'tag:yaml.org,2002:timestamp';
// PyYAML's booleans: YAML 1.1 also lists y/Y/n/N, which Ansible users write as plain letters.
const PY_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PY_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;

/** YAML 1.1 minus its surprises: sexagesimal numbers (`22:22` → 1342) and timestamps (Date objects). */
function tags(all: Tags): Tags {
  return all
    .filter((t) => typeof t === 'string' || (t.tag !== TIMESTAMP && t.format !== 'TIME'))
    .map((t) => {
      if (typeof t === 'string' || t.tag !== BOOL || !('test' in t) || !t.test) return t;
      return { ...t, test: t.test.test('yes') ? PY_TRUE : PY_FALSE };
    });
}

export async function loadYamlFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, path);
  }
  return parseYaml(text, path);
}

export function parseYaml(text: string, file: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    lineCounter: lines,
    // Duplicates are checked on the keys as written (`on:` and `yes:` are different keys to us).
    uniqueKeys: false,
    prettyErrors: false,
    customTags: tags,
  });
  const at = (offset: number): SourcePos => {
    const { line, col } = lines.linePos(offset);
    return { file, line, col };
  };
  const err = doc.errors[0];
  if (err) throw new InputError(`invalid YAML: ${err.message}`, at(err.pos[0]));
  return new Converter(doc, text, at).value(doc.contents);
}

/** `obj[key] = value` that stays an own property even for a key named `__proto__`. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** An alias re-expands its anchor each time; a cap stops "billion laughs" documents. */
const MAX_ALIAS_EXPANSIONS = 10_000;

class Converter {
  private aliases = 0;

  constructor(
    private readonly doc: Document,
    private readonly text: string,
    private readonly at: (offset: number) => SourcePos,
  ) {}

  private pos(node: Node): SourcePos {
    return this.at(node.range?.[0] ?? 0);
  }

  value(node: unknown, seen: ReadonlySet<Node> = new Set()): unknown {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) throw new InputError(`unknown alias *${node.source}`, this.pos(node));
      if (seen.has(target)) throw new InputError(`alias *${node.source} refers to itself`, this.pos(node));
      if (++this.aliases > MAX_ALIAS_EXPANSIONS) throw new InputError('too many alias expansions', this.pos(node));
      return this.value(target, new Set([...seen, target]));
    }
    if (isScalar(node)) return node.value ?? null;
    if (isSeq(node)) {
      const out: unknown[] = [];
      const entries = new Map<number, SourcePos>();
      node.items.forEach((item, i) => {
        out.push(this.value(item, seen));
        if (item && typeof item === 'object' && 'range' in item) entries.set(i, this.pos(item as Node));
      });
      Object.defineProperty(out, POSITIONS, { value: { self: this.pos(node), entries }, enumerable: false });
      return out;
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const entries = new Map<string, SourcePos>();
      const merges: unknown[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
          merges.push(this.value(pair.value, seen));
          continue;
        }
        const key = this.key(keyNode);
        const keyPos = keyNode ? this.pos(keyNode) : this.pos(node);
        if (Object.hasOwn(out, key)) throw new InputError(`duplicate key '${key}'`, keyPos);
        setOwn(out, key, key === 'mode' && isScalar(pair.value) ? this.mode(pair.value) : this.value(pair.value, seen));
        entries.set(key, keyPos);
      }
      // `<<: *base` — keys written here win over merged ones, earlier merge sources over later ones.
      for (const src of merges.flat()) {
        if (!src || typeof src !== 'object' || Array.isArray(src)) {
          throw new InputError('merge key << needs a mapping or a list of mappings', this.pos(node));
        }
        for (const [k, v] of Object.entries(src)) {
          if (Object.hasOwn(out, k)) continue;
          setOwn(out, k, v);
          const p = positionOf(src, k);
          if (p) entries.set(k, p);
        }
      }
      Object.defineProperty(out, POSITIONS, { value: { self: this.pos(node), entries }, enumerable: false });
      return out;
    }
    throw new InputError('unsupported YAML node', isScalar(node) ? this.pos(node) : undefined);
  }

  /** Keys are always strings, as written: `on:` or `y:` stay "on"/"y" rather than becoming "true". */
  private key(node: Node | null): string {
    if (node === null) return '';
    if (isScalar(node)) {
      if (node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
      return String(node.value);
    }
    throw new InputError('mapping keys must be plain scalars', this.pos(node));
  }

  /**
   * A file mode must never be silently wrong: YAML 1.1 octal (`0640`) becomes the string "0640";
   * a decimal number is rejected, since the author may have meant either base.
   */
  private mode(node: Scalar): unknown {
    const v = node.value;
    if (typeof v !== 'number' || !Number.isInteger(v)) return v ?? null;
    const src = this.text.slice(node.range?.[0] ?? 0, node.range?.[1] ?? 0).trim();
    if (node.format === 'OCT' || v === 0) return '0' + v.toString(8).padStart(3, '0');
    if (src.startsWith('0')) {
      throw new InputError(`mode: ${src} is not an octal number — write it with digits 0-7, e.g. 0640`, this.pos(node));
    }
    const oct = '0' + String(v);
    throw new InputError(`mode: ${src} is ambiguous — write ${oct} (octal) or '${oct}'`, this.pos(node));
  }
}
