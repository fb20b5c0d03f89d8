/** A place in a user's file; line and col are 1-based. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export function formatPos(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/**
 * Bad user input (playbook, inventory, vars file, CLI value): the message is what the user reads,
 * prefixed with where — `file:line:col: text`, or `file: text` when only the file is known.
 */
export class InputError extends Error {
  readonly pos?: SourcePos;
  readonly file?: string;
  /** The message without its location prefix. */
  readonly text: string;

  constructor(text: string, where?: SourcePos | string) {
    const prefix = where === undefined ? '' : typeof where === 'string' ? `${where}: ` : `${formatPos(where)}: `;
    super(prefix + text);
    this.name = 'InputError';
    this.text = text;
    if (typeof where === 'string') this.file = where;
    else if (where) {
      this.pos = where;
      this.file = where.file;
    }
  }
}

/**
 * Several independent problems of one load, reported together (each task, each play): one error
 * stays itself, several become an AggregateError of them all, nested ones flattened.
 */
export function inputProblems(errors: readonly Error[]): Error {
  const flat = errors.flatMap((e) => (e instanceof AggregateError ? (e.errors as Error[]) : [e]));
  return flat.length === 1 ? flat[0]! : new AggregateError(flat, flat.map((e) => e.message).join('\n'));
}

/** Bad input (one problem or several), as opposed to a bug. */
export function isInputProblem(e: unknown): e is InputError | AggregateError {
  return e instanceof InputError || e instanceof AggregateError;
}
