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
  /** Batch size: a count or a percentage string like "30%". */
  serial?: number | string;
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
  vars?: Record<string, unknown>;
  pos: SourcePos;
}

export function isBlock(node: TaskNode): node is Block {
  return 'block' in node;
}
