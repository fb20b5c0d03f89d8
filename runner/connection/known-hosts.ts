import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type HostKeyVerdict = { kind: 'known' } | { kind: 'unknown' } | { kind: 'changed'; line: number };

/** known_hosts names a host as `addr` on port 22, `[addr]:port` otherwise. */
function hostToken(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

function matches(pattern: string, token: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(token).digest('base64');
    return h === hash;
  }
  return pattern.split(',').some((p) => p === token);
}

/** Compare a presented host key (ssh wire blob) with the known_hosts file. */
export function checkHostKey(file: string, address: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  if (!existsSync(file)) return { kind: 'unknown' };
  const token = hostToken(address, port);
  const presented = keyBlob.toString('base64');
  let mismatch: number | undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const [hosts, type, key] = line.split(/\s+/);
    if (!hosts || !type || !key || !matches(hosts, token)) continue;
    if (key === presented) return { kind: 'known' };
    const presentedType = keyBlob.subarray(4, 4 + keyBlob.readUInt32BE(0)).toString();
    if (presentedType === type) mismatch ??= i + 1;
  }
  return mismatch === undefined ? { kind: 'unknown' } : { kind: 'changed', line: mismatch };
}

export function addHostKey(file: string, address: string, port: number, keyBlob: Buffer): void {
  const type = keyBlob.subarray(4, 4 + keyBlob.readUInt32BE(0)).toString();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${hostToken(address, port)} ${type} ${keyBlob.toString('base64')}\n`, { mode: 0o600 });
}
