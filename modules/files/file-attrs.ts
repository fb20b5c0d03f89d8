import { Type } from '@sinclair/typebox';
import { shQuote } from '../../runner/connection/quote.js';
import { NotYetThere, type Change } from '../../runner/types.js';

/**
 * A file mode is an octal string of four digits ("0640"). The playbook loader turns YAML's 0640 into
 * "0640"; a bare 640 (decimal in YAML) or symbolic modes are refused, so a mode is never silently wrong.
 */
export const Mode = Type.String({
  pattern: '^0?[0-7]{4}$',
  description: 'octal file mode with its leading 0, e.g. 0640 (or "0640"; 04755 with setuid)',
});

/** Owner or group: a name, or a numeric id. */
const Principal = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*[$]?$' });

/** The `mode`, `owner`, `group` args shared by file, copy and template. */
export const attrArgs = {
  mode: Type.Optional(Mode),
  owner: Type.Optional(Principal),
  group: Type.Optional(Principal),
};

export interface WantedAttrs {
  mode?: string;
  owner?: string;
  group?: string;
}

export type PathType = 'file' | 'directory' | 'link' | 'other';

/** Something at a path (not following a symlink there). */
export interface PresentPath {
  type: PathType;
  mode: string;
  owner: string;
  group: string;
  uid: number;
  gid: number;
  linkTarget?: string;
}

/** What is at a path, not following a symlink there. */
export type PathState = { type: 'absent' } | PresentPath;

/**
 * A sh function `st PATH` printing one line "TYPE MODE OWNER GROUP UID GID" (or "absent"), and for a
 * symlink a second line with its target. Gather scripts embed it so stat and content come back in
 * one round trip.
 */
export const STAT_FN = `st() {
  if [ -L "$1" ]; then t=link; elif [ -d "$1" ]; then t=directory; elif [ -f "$1" ]; then t=file
  elif [ -e "$1" ]; then t=other; else echo absent; return 0; fi
  stat -c "$t %a %U %G %u %g" -- "$1" || return 1
  if [ "$t" = link ]; then readlink -- "$1"; fi
}`;

/** Parse `st` output; returns the state and how many lines it used. */
export function parseStat(lines: readonly string[], path: string): { state: PathState; used: number } {
  const first = lines[0] ?? '';
  if (first === 'absent') return { state: { type: 'absent' }, used: 1 };
  const f = first.split(' ');
  if (f.length !== 6 || !['file', 'directory', 'link', 'other'].includes(f[0])) {
    throw new Error(`unexpected stat output for ${path}: ${JSON.stringify(first)}`);
  }
  const type = f[0] as PathType;
  const state: PresentPath = {
    type,
    mode: normalMode(f[1]),
    owner: f[2],
    group: f[3],
    uid: Number(f[4]),
    gid: Number(f[5]),
  };
  if (type === 'link') return { state: { ...state, linkTarget: lines[1] ?? '' }, used: 2 };
  return { state, used: 1 };
}

/** Modes are compared as four digits: stat's %a drops leading zeros ("644"), YAML's 04755 has five. */
export function normalMode(m: string): string {
  return m.length === 5 ? m.slice(1) : m.padStart(4, '0');
}

function sameOwner(wanted: string, name: string, id: number): boolean {
  return wanted === name || wanted === String(id);
}

/**
 * Sets attributes of one path, as attrCommands does (chown before chmod). An owner or group change
 * carries the wanted mode too: chown clears setuid and setgid bits, which the chmod after it puts back.
 */
export interface AttrOp extends WantedAttrs {
  kind: 'attrs';
  path: string;
  /** The path is a symlink: chown the link itself, never chmod (that would follow it). */
  link?: true;
}

/** The attributes that are set, without keys for those that are not (an operation is data: no undefined). */
export function definedAttrs(w: WantedAttrs): WantedAttrs {
  return {
    ...(w.mode !== undefined && { mode: w.mode }),
    ...(w.owner !== undefined && { owner: w.owner }),
    ...(w.group !== undefined && { group: w.group }),
  };
}

/**
 * One change per attribute that differs, e.g. "mode 0644 → 0600 on /etc/x", each with its operation.
 * Modes are not compared on symlinks (Linux ignores them).
 */
export function attrChanges(path: string, wanted: WantedAttrs, actual: PathState): Change<AttrOp>[] {
  if (actual.type === 'absent') return [];
  const out: Change<AttrOp>[] = [];
  const link = actual.type === 'link';
  const mode = wanted.mode !== undefined && !link ? { mode: wanted.mode } : {};
  const op = (set: WantedAttrs): AttrOp => ({ kind: 'attrs', path, ...set, ...(link && { link: true }) });
  if (mode.mode !== undefined && normalMode(mode.mode) !== actual.mode) {
    out.push({ description: `mode ${actual.mode} → ${normalMode(mode.mode)} on ${path}`, op: op(mode) });
  }
  if (wanted.owner !== undefined && !sameOwner(wanted.owner, actual.owner, actual.uid)) {
    out.push({ description: `owner ${actual.owner} → ${wanted.owner} on ${path}`, op: op({ owner: wanted.owner, ...mode }) });
  }
  if (wanted.group !== undefined && !sameOwner(wanted.group, actual.group, actual.gid)) {
    out.push({ description: `group ${actual.group} → ${wanted.group} on ${path}`, op: op({ group: wanted.group, ...mode }) });
  }
  return out;
}

/** The wanted attributes as words for a creation message: "mode 0640, owner redis". */
export function describeAttrs(wanted: WantedAttrs): string {
  const parts = [
    wanted.mode && `mode ${normalMode(wanted.mode)}`,
    wanted.owner && `owner ${wanted.owner}`,
    wanted.group && `group ${wanted.group}`,
  ].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** sh lines that set the wanted attributes on `path` (chown before chmod: chown clears setuid bits). */
export function attrCommands(path: string, wanted: WantedAttrs, isLink = false): string[] {
  const cmds: string[] = [];
  const who = `${wanted.owner ?? ''}${wanted.group ? `:${wanted.group}` : ''}`;
  if (who) cmds.push(`chown ${isLink ? '-h ' : ''}-- ${shQuote(who)} ${shQuote(path)}`);
  // Five digits: GNU chmod keeps a directory's setgid bit (inherited from a setgid parent such as
  // /etc/redis) under a four-digit mode, and the mode would never converge.
  if (wanted.mode && !isLink) cmds.push(`chmod -- 0${normalMode(wanted.mode)} ${shQuote(path)}`);
  return cmds;
}

/**
 * A sh function `need DIR OWNER GROUP` printing one line "need F U G", each 1 when that folder, user
 * or group is missing on the host (an empty argument is not looked at). Gather scripts call it
 * first, so what is not there yet comes back in the same round trip.
 */
export const NEED_FN = `need() {
  f=0; u=0; g=0
  [ -z "$1" ] || [ -d "$1" ] || f=1
  [ -z "$2" ] || id -u -- "$2" > /dev/null 2>&1 || u=1
  [ -z "$3" ] || getent group -- "$3" > /dev/null 2>&1 || g=1
  echo "need $f $u $g"
}`;

/** `need`'s arguments: the folder `path` goes into (when it must already exist), named owner and group (ids need nothing). */
export function needArgs(wanted: WantedAttrs, folder: string | undefined): [string, string, string] {
  const named = (p: string | undefined): string => (p === undefined || /^\d+$/.test(p) ? '' : p);
  return [folder ?? '', named(wanted.owner), named(wanted.group)];
}

/**
 * The "not there yet" case from `need`'s line: a folder, user or group an earlier task of the run
 * (mkdir, a package, a user) would make. Undefined when nothing is missing.
 */
export function missingFor(line: string | undefined, path: string, args: readonly string[]): NotYetThere | undefined {
  const m = /^need ([01]) ([01]) ([01])$/.exec(line ?? '');
  if (!m) throw new Error(`unexpected output for ${path}: ${JSON.stringify(line)}`);
  const [, folder, owner, group] = m;
  if (folder === '1') return new NotYetThere(`the folder ${args[0]} of ${path} does not exist`, `folder ${args[0]}`);
  if (owner === '1') return new NotYetThere(`owner ${args[1]} of ${path} is not a user on this host`, `user ${args[1]}`);
  if (group === '1') return new NotYetThere(`group ${args[2]} of ${path} is not a group on this host`, `group ${args[2]}`);
  return undefined;
}
