// A stable hash of a task's gathered state: the same state gives the same fingerprint (keys in any
// order), so a later step can tell whether a host is still in the state a plan was made from.
// Secret values count by an HMAC under a key of this process: the fingerprint, which may be shown,
// never lets anyone test a guess of a secret offline.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { isSecret } from '../secret.js';

const SECRET_KEY = randomBytes(32);

export function fingerprint(state: unknown): string {
  return 'sha256:' + createHash('sha256').update(canonical(state)).digest('hex');
}

function canonical(v: unknown): string {
  if (v === undefined) return 'null';
  if (isSecret(v)) return JSON.stringify({ secret: createHmac('sha256', SECRET_KEY).update(String(v.reveal())).digest('hex') });
  if (Buffer.isBuffer(v)) return JSON.stringify({ bytes: createHash('sha256').update(v).digest('hex') });
  if (v instanceof Map) return canonical(Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), x])));
  if (v instanceof Set) return canonical([...v]);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  return JSON.stringify(v) ?? 'null';
}
