// Ansible-like text shared by the plain and TTY reporters: banners, one line per host result (with
// its diff and, at -vv, the registered result), and the recap.
import type { HostStats, TaskResult } from '../types.js';
import type { TaskInfo } from './reporter.js';
import { redactDeep } from './writer.js';

export interface TextStyle {
  verbosity: 0 | 1 | 2;
  diff: boolean;
}

const WIDTH = 79;

/** `TASK [name] ****…` padded to 79 columns, as Ansible does without a terminal. */
export function banner(text: string): string {
  return `${text} ${'*'.repeat(Math.max(3, WIDTH - text.length - 1))}`;
}

export function taskTitle(task: TaskInfo): string {
  return `${task.handler ? 'RUNNING HANDLER' : 'TASK'} [${task.name}]`;
}

/**
 * `changed: [node-1] => msg`, then the diff and (at -vv) the registered result. The message shows
 * for changed, failed and unreachable hosts, and for every host at -v.
 */
export function hostLines(host: string, r: TaskResult, style: TextStyle, module = ''): string[] {
  // debug exists to print its message, as in Ansible.
  const loud = r.status === 'changed' || r.status === 'failed' || r.status === 'unreachable' || module === 'debug';
  const msg = r.msg && (loud || style.verbosity >= 1) ? ` => ${r.msg}` : '';
  const lines = [`${r.status}: [${host}]${msg}`];
  if (style.diff && r.diff) lines.push(r.diff.replace(/\n$/, ''));
  if (style.verbosity >= 2 && r.registered) lines.push(JSON.stringify(redactDeep(r.registered), null, 2));
  return lines;
}

/** Whether a result says more than hostLines' first line would at this verbosity. */
export function isNoteworthy(r: TaskResult, style: TextStyle, module = ''): boolean {
  const quiet = (r.status === 'ok' && module !== 'debug') || r.status === 'skipped';
  return !quiet || style.verbosity >= 1 || hostLines('', r, style, module).length > 1;
}

const COUNTS = ['ok', 'changed', 'failed', 'skipped', 'unreachable'] as const;

/** `PLAY RECAP` and one `node-1  ok=12 changed=0 failed=0 skipped=1 unreachable=0` per host. */
export function recapLines(stats: Record<string, HostStats>): string[] {
  const names = Object.keys(stats);
  const width = Math.max(0, ...names.map((n) => n.length));
  return [
    banner('PLAY RECAP'),
    ...names.map((n) => `${n.padEnd(width)} ${COUNTS.map((k) => `${k}=${stats[n][k]}`).join(' ')}`),
  ];
}
