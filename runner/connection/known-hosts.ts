// known_hosts with OpenSSH's format (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT): markers, host patterns
// (`*`, `?`, `!` negation, hashed `|1|salt|hash`, `[host]:port`), key types. Stricter than OpenSSH
// in one way: any known key of a host, of any type, that is not the presented one makes the key
// "changed" — accept-new never adds a second key for a host that already has one.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type HostKeyVerdict =
  | { kind: 'known' }
  | { kind: 'unknown' }
  | { kind: 'changed'; line: number }
  /** The presented key is on a `@revoked` line: refused for every host. */
  | { kind: 'revoked'; line: number }
  /** The host matches only `@cert-authority` lines; ssh2 does not verify host certificates. */
  | { kind: 'cert-authority'; line: number };

interface Entry {
  line: number;
  marker: '' | '@revoked' | '@cert-authority';
  hosts: string;
  key: Buffer;
  type: string;
}

/** known_hosts names a host as `addr` on port 22, `[addr]:port` otherwise. */
function hostToken(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** The type name inside an ssh wire-format key blob. */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return '';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

function parse(file: string): Entry[] {
  if (!existsSync(file)) return [];
  const out: Entry[] = [];
  for (const [i, raw] of readFileSync(file, 'utf8').split('\n').entries()) {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) continue;
    let marker: Entry['marker'] = '';
    if (fields[0].startsWith('@')) {
      if (fields[0] !== '@revoked' && fields[0] !== '@cert-authority') continue; // unknown marker: OpenSSH skips it
      marker = fields.shift() as Entry['marker'];
    }
    const [hosts, , b64] = fields;
    if (!hosts || !b64) continue;
    const key = Buffer.from(b64, 'base64');
    // A malformed key is skipped, as OpenSSH does; it can match nothing.
    if (key.length < 5 || key.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) continue;
    out.push({ line: i + 1, marker, hosts, key, type: keyType(key) });
  }
  return out;
}

/** `*` any run of characters, `?` one; case-insensitive like OpenSSH's host matching. Linear time. */
function wildcard(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else return false;
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

/** OpenSSH's rule for a pattern list: a matching `!pattern` excludes the host whatever else matches. */
export function hostMatches(hosts: string, token: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const want = Buffer.from(hash, 'base64');
    const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(token).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  let positive = false;
  for (const p of hosts.split(',')) {
    if (p.startsWith('!')) {
      if (wildcard(p.slice(1), token)) return false;
    } else if (wildcard(p, token)) positive = true;
  }
  return positive;
}

/** Compare a presented host key (ssh wire blob) with the known_hosts file. */
export function checkHostKey(file: string, address: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const entries = parse(file);
  // A revoked key is never accepted, for any host: the revocation is about the key.
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key.equals(keyBlob));
  if (revoked) return { kind: 'revoked', line: revoked.line };
  const token = hostToken(address, port);
  const mine = entries.filter((e) => e.marker !== '@revoked' && hostMatches(e.hosts, token));
  const plain = mine.filter((e) => e.marker === '');
  if (plain.some((e) => e.key.equals(keyBlob))) return { kind: 'known' };
  if (plain.length) return { kind: 'changed', line: plain[0]!.line };
  const ca = mine.find((e) => e.marker === '@cert-authority');
  if (ca) return { kind: 'cert-authority', line: ca.line };
  return { kind: 'unknown' };
}

/** Key types the host is known by (plain lines), in file order: offered first in the handshake. */
export function knownKeyTypes(file: string, address: string, port: number): string[] {
  const token = hostToken(address, port);
  const types = parse(file)
    .filter((e) => e.marker === '' && hostMatches(e.hosts, token))
    .map((e) => e.type);
  return [...new Set(types)];
}

export function addHostKey(file: string, address: string, port: number, keyBlob: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // A file whose last line lacks its newline would otherwise swallow the new entry.
  const sep = existsSync(file) && !/(^|\n)$/.test(readFileSync(file, 'utf8')) ? '\n' : '';
  appendFileSync(file, `${sep}${hostToken(address, port)} ${keyType(keyBlob)} ${keyBlob.toString('base64')}\n`, { mode: 0o600 });
}
