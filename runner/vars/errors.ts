/** An expression or template named a variable (or attribute) that does not exist. */
export class UndefinedVariableError extends Error {
  /** The name as written, e.g. `redis_port` or `result.stdout`. */
  readonly variable: string;
  /** Variables whose values needed it, outermost first (`a: "{{ b }}"` → via ['a']). */
  readonly via: readonly string[];
  readonly detail?: string;
  constructor(variable: string, detail?: string, via: readonly string[] = []) {
    const notes = [detail, via.length ? `needed by ${via.join(' → ')}` : undefined].filter(Boolean);
    super(`undefined variable '${variable}'${notes.length ? ` (${notes.join('; ')})` : ''}`);
    this.name = 'UndefinedVariableError';
    this.variable = variable;
    this.via = via;
    if (detail) this.detail = detail;
  }
}

/** An expression that cannot be parsed or evaluated (syntax, unknown filter, wrong types, cycles). */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}
