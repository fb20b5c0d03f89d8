// Resource ids as EC2 makes them: a prefix and 17 lowercase hex digits (vpc-0a1b2c3d4e5f67890).
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

export function newRequestId(): string {
  return randomUUID();
}

/** The same id for the same parts every time (ids of things the emulator has from the start). */
export function stableId(prefix: string, ...parts: string[]): string {
  return `${prefix}-${createHash('sha256').update(parts.join('/')).digest('hex').slice(0, 17)}`;
}
