// A playbook as the engine runs it: normalised (snake_case → camelCase, scalars → lists), validated,
// every node carrying where it was written so any later error can point at it.
import type { SourcePos } from '../yaml/input-error.js';

export type { SourcePos } from '../yaml/input-error.js';

export interface Playbook {
  file: string;
  /** Plays of this file and of every import_playbook, in order. */
  plays: Play[];
}

export interface Play {
  name: string;
  /** Host pattern (`all`, `redis`, `a:&b`, …); a YAML list is joined with ':'. */
  hosts: string;
  remoteUser?: string;
  become?: boolean;
  becomeUser?: string;
  /** Raw values: templated lazily by the engine's Scope. */
  vars: Record<string, unknown>;
  /** Paths as written (may be templated), relative to the playbook's folder once rendered. */
  varsFiles: string[];
  gatherFacts: boolean;
  /**
   * Batch sizes: counts or percentages like "30%" (of the play's hosts), in order, the last one
   * repeating; may be templated (play vars and extra vars). Undefined: one batch of every host.
   */
  serial?: (number | string)[];
  /** A batch whose failed share (in percent) is above this ends the play and the run. */
  maxFailPercentage?: number;
  /** A failure on any host ends the play for every host (blocks and tasks may say it too). */
  anyErrorsFatal?: boolean;
  /** Notified handlers run on hosts that failed (or were stopped) too; not on unreachable ones. */
  forceHandlers?: boolean;
  tasks: TaskNode[];
  handlers: Task[];
  pos: SourcePos;
}

export type TaskNode = Task | Block;

export interface Task {
  /** As written, or the module name for an unnamed task. */
  name: string;
  /** A registry module name, or 'meta' (args: { action: 'flush_handlers' | 'refresh_inventory' }). */
  module: string;
  /** Raw args (may contain `{{ }}`), free-form strings already mapped to the module's own key. */
  args: Record<string, unknown>;
  /** Expressions, all of which must be true. */
  when?: string[];
  loop?: unknown;
  register?: string;
  /** Handler names. */
  notify: string[];
  changedWhen?: string[];
  failedWhen?: string[];
  ignoreErrors: boolean;
  tags: string[];
  become?: boolean;
  becomeUser?: string;
  /** false: run for real even under --check (Ansible's `check_mode: false`). */
  checkMode?: boolean;
  retries?: number;
  until?: string[];
  /** Seconds between `until` attempts. */
  delay?: number;
  /** Seconds the task may take on a host (Ansible's `timeout`); past it, its command is killed. */
  timeout?: number;
  noLog: boolean;
  runOnce: boolean;
  /** Unset: the enclosing block's, else the play's. */
  anyErrorsFatal?: boolean;
  delegateTo?: 'localhost';
  vars?: Record<string, unknown>;
  pos: SourcePos;
  /** The file the task was written in (imports make it differ from the playbook's). */
  file: string;
}

export interface Block {
  name?: string;
  block: TaskNode[];
  rescue: TaskNode[];
  always: TaskNode[];
  when?: string[];
  tags: string[];
  become?: boolean;
  becomeUser?: string;
  anyErrorsFatal?: boolean;
  vars?: Record<string, unknown>;
  pos: SourcePos;
}

export function isBlock(node: TaskNode): node is Block {
  return 'block' in node;
}
