// users.acl from a list of users: one `user NAME on|off #<sha256> RULES` line each, no comments
// (Redis rejects them), passwords only ever as their SHA-256 hash.
import { createHash } from 'node:crypto';
import { registerSecret } from '../../runner/secret.js';
import { checkPasswordPolicy } from '../../runner/vault/policy.js';

export interface AclUser {
  name: string;
  /** Plain password (from the vault); the file carries only its hash. Required when enabled. */
  password?: string;
  /** Default true; `default` is shipped disabled (`user default off`). */
  enabled?: boolean;
  /** Key, channel and command rules, e.g. "~session:* +get +set". */
  rules?: string;
}

export class AclError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AclError';
  }
}

const NAME = /^[A-Za-z0-9_.:@-]+$/;

// Rules that would put a password in the file, drop the one rplay sets, or flip on/off behind the
// `enabled` setting. Everything else is left for Redis itself to judge (see acl-canonical.ts).
const PASSWORD_RULE = /^[<>#!]/;
const RESERVED = new Set(['on', 'off', 'nopass', 'resetpass', 'reset']);

/** The hash is as good as the password to anyone who can try guesses offline: a secret too. */
export function aclPasswordHash(password: string): string {
  const hash = createHash('sha256').update(password, 'utf8').digest('hex');
  registerSecret(hash);
  return hash;
}

/** Throws AclError naming the user (never a password) when a user cannot go into the file. */
export function checkAclUsers(users: readonly AclUser[]): void {
  const seen = new Set<string>();
  for (const u of users) {
    if (!NAME.test(u.name)) throw new AclError(`user name '${u.name}' may only hold letters, digits and _ . : @ -`);
    if (seen.has(u.name)) throw new AclError(`user ${u.name} is listed twice`);
    seen.add(u.name);
    const enabled = u.enabled ?? true;
    if (enabled && u.password === undefined) throw new AclError(`user ${u.name} is enabled but has no password (give one from the vault, or enabled: false)`);
    if (u.password !== undefined) {
      try {
        checkPasswordPolicy(`the password of user ${u.name}`, u.password);
      } catch (e) {
        throw new AclError((e as Error).message);
      }
    }
    for (const rule of ruleTokens(u.rules)) {
      if (PASSWORD_RULE.test(rule)) {
        throw new AclError(`user ${u.name}: rule '${rule.slice(0, 1)}…' sets a password; put the password in 'password' (from the vault), not in rules`);
      }
      if (RESERVED.has(rule.toLowerCase())) throw new AclError(`user ${u.name}: rule '${rule}' is managed by rplay (use enabled: true|false and password)`);
    }
  }
}

function ruleTokens(rules: string | undefined): string[] {
  return (rules ?? '').split(/\s+/).filter(Boolean);
}

export function aclLine(u: AclUser): string {
  const parts = ['user', u.name, (u.enabled ?? true) ? 'on' : 'off'];
  if (u.password !== undefined) parts.push(`#${aclPasswordHash(u.password)}`);
  parts.push(...ruleTokens(u.rules));
  return parts.join(' ');
}

/** The file's bytes. Checks the users first. */
export function renderAclFile(users: readonly AclUser[]): string {
  checkAclUsers(users);
  return users.map((u) => `${aclLine(u)}\n`).join('');
}
