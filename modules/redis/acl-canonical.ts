// What a users.acl means, to compare with what a running instance holds. ACL LIST does not print a
// user as the file says it (Redis 7.0 adds `resetchannels -@all`, drops `+get` once `+@read` grants
// it, merges `%R~x ~x`, orders commands by its hash table), so lines are not compared as text:
// both the file's lines and ACL LIST's are applied, rule by rule as Redis's ACL documentation
// defines them, to a model of a user (flags, password hashes, key and channel patterns, the set of
// commands allowed, selectors), and the models are compared. Which commands a category or a
// container command covers is the instance's own: its COMMAND LIST and ACL CAT (commandTable). A
// rule Redis would refuse (an unknown command, a pattern after `~*`, a bad hash) is refused here
// with Redis's own words, before the file is written.
import { createHash } from 'node:crypto';

/** The commands an instance knows and its categories (lower case; subcommands as `config|get`). */
export interface CommandTable {
  commands: ReadonlySet<string>;
  categories: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Reads the table from a logged-in client (`call` as ioredis's): COMMAND LIST, ACL CAT, ACL CAT each. */
export async function commandTable(call: (...argv: string[]) => Promise<unknown>): Promise<CommandTable> {
  const [names, cats] = (await Promise.all([call('COMMAND', 'LIST'), call('ACL', 'CAT')])) as [string[], string[]];
  const members = (await Promise.all(cats.map((c) => call('ACL', 'CAT', c)))) as string[][];
  return {
    commands: new Set(names.map((n) => n.toLowerCase())),
    categories: new Map(cats.map((c, i) => [c.toLowerCase(), new Set((members[i] ?? []).map((n) => n.toLowerCase()))])),
  };
}

/** Why Redis refuses a rule, in its words (acl.c, ACLSetUserStringError). */
class RuleError extends Error {
  /** Redis names the operation only for an unknown command or category. */
  constructor(
    message: string,
    readonly namesOp = false,
  ) {
    super(message);
  }
}
const UNKNOWN = 'Unknown command or category name in ACL';
const SYNTAX = 'Syntax error';
const AFTER_ALLKEYS = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
const AFTER_ALLCHANNELS = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
const NO_SUCH_PASSWORD = 'The password you are trying to remove from the user does not exist';
const BAD_HASH = 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters';
const FIRST_ARG_OF_SUB = 'Allowing first-arg of a subcommand is not supported';

interface Selector {
  allKeys: boolean;
  /** Pattern → 'R' | 'W' | 'RW' (a pattern given twice has the union). */
  keys: Map<string, string>;
  allChannels: boolean;
  channels: Set<string>;
  /** +@all / allcommands: commands added to Redis later are allowed too. */
  future: boolean;
  commands: Set<string>;
  /** `+select|0`: first arguments allowed of a command that has no subcommands. */
  firstArgs: Set<string>;
}

interface User {
  on: boolean;
  nopass: boolean;
  sanitize?: 'skip-sanitize-payload' | 'sanitize-payload';
  passwords: Set<string>;
  root: Selector;
  selectors: Selector[];
}

const emptySelector = (): Selector => ({ allKeys: false, keys: new Map(), allChannels: false, channels: new Set(), future: false, commands: new Set(), firstArgs: new Set() });
const newUser = (): User => ({ on: false, nopass: false, passwords: new Set(), root: emptySelector(), selectors: [] });

/**
 * Applies the rules to a model. `strict`: refuse as Redis does when loading a file; ACL LIST's own
 * output is read leniently (Redis prints `%RW~*` as `~*` and may follow it with other patterns).
 */
class Rules {
  constructor(
    private readonly table: CommandTable,
    private readonly strict: boolean,
  ) {}

  user(u: User, op: string): void {
    const low = op.toLowerCase();
    if (low === 'on') u.on = true;
    else if (low === 'off') u.on = false;
    else if (low === 'nopass') {
      u.nopass = true;
      u.passwords.clear();
    } else if (low === 'resetpass') {
      u.nopass = false;
      u.passwords.clear();
    } else if (low === 'skip-sanitize-payload' || low === 'sanitize-payload') u.sanitize = low;
    else if (op.startsWith('>') || op.startsWith('#')) {
      const hash = op.startsWith('#') ? this.hash(op.slice(1)) : sha256(op.slice(1));
      u.passwords.add(hash);
      u.nopass = false;
    } else if (op.startsWith('<') || op.startsWith('!')) {
      const hash = op.startsWith('!') ? this.hash(op.slice(1)) : sha256(op.slice(1));
      if (!u.passwords.delete(hash)) throw new RuleError(NO_SUCH_PASSWORD);
    } else if (low === 'reset') {
      // As Redis 7.0 does it: everything off and empty, and sanitize-payload.
      Object.assign(u, newUser(), { sanitize: 'sanitize-payload' });
    } else if (low === 'clearselectors') u.selectors = [];
    else if (op.startsWith('(') && op.endsWith(')')) {
      const s = emptySelector();
      for (const t of tokens(op.slice(1, -1))) this.selector(s, t);
      u.selectors.push(s);
    } else this.selector(u.root, op);
  }

  private hash(h: string): string {
    if (!/^[0-9a-f]{64}$/.test(h)) throw new RuleError(BAD_HASH);
    return h;
  }

  selector(s: Selector, op: string): void {
    const low = op.toLowerCase();
    if (low === 'allkeys' || op === '~*') {
      s.allKeys = true;
      s.keys = new Map([['*', 'RW']]);
    } else if (low === 'resetkeys') {
      s.allKeys = false;
      s.keys.clear();
    } else if (op.startsWith('~') || op.startsWith('%')) this.keyPattern(s, op);
    else if (low === 'allchannels' || op === '&*') {
      s.allChannels = true;
      s.channels = new Set(['*']);
    } else if (low === 'resetchannels') {
      s.allChannels = false;
      s.channels.clear();
    } else if (op.startsWith('&')) {
      if (s.allChannels && this.strict) throw new RuleError(AFTER_ALLCHANNELS);
      s.channels.add(op.slice(1));
    } else if (low === 'allcommands' || low === '+@all') {
      s.future = true;
      s.commands = new Set(this.table.commands);
      s.firstArgs.clear();
    } else if (low === 'nocommands' || low === '-@all') {
      s.future = false;
      s.commands.clear();
      s.firstArgs.clear();
    } else if (op.startsWith('+@') || op.startsWith('-@')) {
      const members = this.table.categories.get(low.slice(2));
      if (!members) throw new RuleError(UNKNOWN, true);
      for (const c of members) this.allow(s, c, op[0] === '+');
    } else if (op.startsWith('+') || op.startsWith('-')) this.command(s, low.slice(1), op[0] === '+');
    else throw new RuleError(SYNTAX);
  }

  private keyPattern(s: Selector, op: string): void {
    const m = /^(?:%([RW]+))?~(.*)$/i.exec(op);
    const perm = m ? (m[1] ?? 'RW').toUpperCase() : '';
    if (!m || !/^(R|W|RW|WR)$/.test(perm)) throw new RuleError(SYNTAX);
    if (s.allKeys && this.strict) throw new RuleError(AFTER_ALLKEYS);
    const pattern = m[2] as string;
    const had = s.keys.get(pattern) ?? '';
    s.keys.set(pattern, ['R', 'W'].filter((p) => had.includes(p) || perm.includes(p)).join(''));
  }

  private command(s: Selector, name: string, allow: boolean): void {
    const [cmd, sub, ...more] = name.split('|') as [string, string | undefined, ...string[]];
    if (!this.table.commands.has(cmd)) throw new RuleError(UNKNOWN, true);
    if (sub === undefined) {
      this.allow(s, cmd, allow);
      return;
    }
    const full = `${cmd}|${sub}`;
    if (more.length > 0) throw this.table.commands.has(full) ? new RuleError(FIRST_ARG_OF_SUB) : new RuleError(SYNTAX);
    if (this.table.commands.has(full)) this.allow(s, full, allow);
    else if (subcommandsOf(this.table, cmd).length > 0) throw new RuleError(UNKNOWN, true);
    // A first argument of a command allowed whole adds nothing.
    else if (allow) {
      if (!s.commands.has(cmd)) s.firstArgs.add(full);
    }
    else throw new RuleError(SYNTAX);
  }

  /** A command rule: a container's subcommands go with it; a command's first-arg rules end. */
  private allow(s: Selector, name: string, allow: boolean): void {
    const names = name.includes('|') ? [name] : [name, ...subcommandsOf(this.table, name)];
    for (const n of names) {
      if (allow) s.commands.add(n);
      else s.commands.delete(n);
    }
    for (const a of [...s.firstArgs]) if (a.startsWith(`${name}|`)) s.firstArgs.delete(a);
  }
}

const subcommandCache = new WeakMap<CommandTable, Map<string, string[]>>();
function subcommandsOf(table: CommandTable, cmd: string): string[] {
  let byCmd = subcommandCache.get(table);
  if (!byCmd) {
    byCmd = new Map();
    for (const n of table.commands) {
      const bar = n.indexOf('|');
      if (bar > 0) byCmd.set(n.slice(0, bar), [...(byCmd.get(n.slice(0, bar)) ?? []), n]);
    }
    subcommandCache.set(table, byCmd);
  }
  return byCmd.get(cmd) ?? [];
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A rule line's tokens: a selector `( … )` is one token, as Redis merges it. */
function tokens(text: string): string[] {
  return text.trim().match(/\([^)]*\)|\S+/g) ?? [];
}

const selectorForm = (s: Selector): string =>
  JSON.stringify([
    [...s.keys].map(([p, perm]) => `${perm}~${p}`).sort(),
    [...s.channels].sort(),
    s.future,
    [...s.commands].sort(),
    [...s.firstArgs].sort(),
  ]);

/** One string per meaning: equal exactly when Redis would let the two users do the same. */
function canonicalForm(u: User): string {
  return JSON.stringify([u.on, u.nopass, u.sanitize ?? '', [...u.passwords].sort(), selectorForm(u.root), u.selectors.map(selectorForm).sort()]);
}

/** `user NAME rules…` → the user's model, applied in order. */
function applyLine(rules: Rules, line: string): { name: string; user: User } | undefined {
  const [keyword, name, ...ops] = tokens(line);
  if (keyword !== 'user' || name === undefined) return undefined;
  const user = newUser();
  for (const op of ops) {
    try {
      rules.user(user, op);
    } catch (e) {
      if (e instanceof RuleError && e.namesOp) throw new RuleError(`Error in applying operation '${op}': ${e.message}`);
      throw e;
    }
  }
  return { name, user };
}

export type Canonical =
  | { kind: 'ok'; users: Map<string, string> }
  /** Redis would refuse the file; `reason` names `path:line` as Redis does. */
  | { kind: 'rejected'; reason: string }
  /** No running instance to learn the commands from (nothing live to compare with either). */
  | { kind: 'unavailable' };

// What Redis holds for `default` when the file does not mention it.
const DEFAULT_USER = 'user default on nopass ~* &* +@all';

/** The users of a users.acl's content (at `path`, for messages), as the instance with `table` would load them. */
export function canonicalAcl(content: string, path: string, table: CommandTable | undefined): Canonical {
  if (!table) return { kind: 'unavailable' };
  const rules = new Rules(table, true);
  const users = new Map<string, string>();
  const lines = content.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const at = `${path}:${i + 1}`;
    try {
      const parsed = applyLine(rules, line);
      if (!parsed) return { kind: 'rejected', reason: `${at} should start with user keyword` };
      if (users.has(parsed.name)) return { kind: 'rejected', reason: `${at}: Duplicate user '${parsed.name}' found` };
      users.set(parsed.name, canonicalForm(parsed.user));
    } catch (e) {
      if (e instanceof RuleError) return { kind: 'rejected', reason: `${at}: ${e.message}` };
      throw e;
    }
  }
  if (!users.has('default')) users.set('default', canonicalForm(applyLine(rules, DEFAULT_USER)!.user));
  return { kind: 'ok', users };
}

/** ACL LIST lines ("user NAME …") by user name, in the same form as canonicalAcl's. */
export function aclListByUser(lines: readonly string[], table: CommandTable): Map<string, string> {
  const rules = new Rules(table, false);
  const out = new Map<string, string>();
  for (const l of lines) {
    const parsed = applyLine(rules, l);
    if (parsed) out.set(parsed.name, canonicalForm(parsed.user));
  }
  return out;
}

export interface AclDrift {
  user: string;
  kind: 'differs' | 'missing' | 'extra';
}

/** Users whose live form differs from the wanted one, in name order. */
export function aclDrift(wanted: ReadonlyMap<string, string>, live: ReadonlyMap<string, string>): AclDrift[] {
  const names = [...new Set([...wanted.keys(), ...live.keys()])].sort();
  const out: AclDrift[] = [];
  for (const user of names) {
    const w = wanted.get(user);
    const l = live.get(user);
    if (w === l) continue;
    out.push({ user, kind: w === undefined ? 'extra' : l === undefined ? 'missing' : 'differs' });
  }
  return out;
}

export function describeDrift(d: AclDrift, port: number): string {
  if (d.kind === 'extra') return `user ${d.user} exists live on :${port} but not in the file`;
  if (d.kind === 'missing') return `user ${d.user} is missing live on :${port}`;
  return `user ${d.user} differs live on :${port}`;
}
