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
