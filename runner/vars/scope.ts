// Variables as a task sees them: layers of raw values (lowest precedence first), templated lazily on
// first use, so `a: "{{ b }}-x"` works whatever order a and b were defined in, and a cycle is an error
// that names it rather than a stack overflow.
import { ExpressionError, UndefinedVariableError } from './errors.js';
import { LOOKUP, UNDEFINED, type VarSource } from './expression/values.js';
import { interpolate } from './interpolate.js';

export interface VarLayer {
  readonly vars: Readonly<Record<string, unknown>>;
  /**
   * Values that are data, never templates (registered results, gathered facts): a command's output
   * that happens to contain `{{` must not be evaluated.
   */
  readonly literal?: boolean;
}

export class Scope implements VarSource {
  private readonly resolved = new Map<string, unknown>();
  private readonly resolving: string[] = [];

  constructor(private readonly layers: readonly VarLayer[]) {}

  static of(vars: Readonly<Record<string, unknown>>): Scope {
    return new Scope([{ vars }]);
  }

  /** A scope with one more layer on top (loop `item`, task vars, registered results). */
  with(vars: Readonly<Record<string, unknown>>, literal = false): Scope {
    return new Scope([...this.layers, { vars, literal }]);
  }

  /** The variable's value, or UNDEFINED. */
  [LOOKUP](name: string): unknown {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i]!;
      if (!Object.hasOwn(layer.vars, name)) continue;
      const raw = layer.vars[name];
      return layer.literal ? raw : this.resolve(name, raw);
    }
    return UNDEFINED;
  }

  get(name: string): unknown {
    const v = this[LOOKUP](name);
    if (v === UNDEFINED) throw new UndefinedVariableError(name);
    return v;
  }

  has(name: string): boolean {
    return this.layers.some((l) => Object.hasOwn(l.vars, name));
  }

  names(): string[] {
    return [...new Set(this.layers.flatMap((l) => Object.keys(l.vars)))];
  }

  /** Every variable, resolved (e.g. `{{ hostvars[h] | to_json }}`, `--list` output). */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries(this.names().map((n) => [n, this.get(n)]));
  }

  private resolve(name: string, raw: unknown): unknown {
    if (this.resolved.has(name)) return this.resolved.get(name);
    if (this.resolving.includes(name)) {
      const cycle = [...this.resolving.slice(this.resolving.indexOf(name)), name];
      throw new ExpressionError(`variable cycle: ${cycle.join(' → ')}`);
    }
    this.resolving.push(name);
    let value: unknown;
    try {
      value = interpolate(raw, this);
    } catch (e) {
      if (e instanceof UndefinedVariableError) throw new UndefinedVariableError(e.variable, e.detail, [name, ...e.via]);
      throw e;
    } finally {
      this.resolving.pop();
    }
    this.resolved.set(name, value);
    return value;
  }
}
