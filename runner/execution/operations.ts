// A plan's operations as text and back. Only data survives: JSON values and Buffers (a file's
// bytes); anything else in an operation (a function, a class instance, undefined in a list) is
// refused when encoding, so an operation can never depend on something a saved plan would lose.
// Operations hold the real values hosts get, secrets included: an encoded plan is as sensitive
// as the vault and is never printed or written in the clear.
import type { Operation } from '../types.js';

const BYTES = '$bytes';

export class OperationEncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperationEncodingError';
  }
}

export function encodeOperations(ops: readonly Operation[]): string {
  return JSON.stringify(ops.map((op, i) => encodeValue(op, `operation ${i + 1} (${op.kind})`)));
}

export function decodeOperations(text: string): Operation[] {
  const raw: unknown = JSON.parse(text);
  if (!Array.isArray(raw)) throw new OperationEncodingError('encoded operations: not a list');
  return raw.map((op, i) => {
    const v = decodeValue(op);
    if (!v || typeof v !== 'object' || typeof (v as { kind?: unknown }).kind !== 'string') {
      throw new OperationEncodingError(`encoded operation ${i + 1}: no kind`);
    }
    return v as Operation;
  });
}

function encodeValue(v: unknown, where: string): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new OperationEncodingError(`${where}: ${v} is not data`);
    return v;
  }
  if (Buffer.isBuffer(v)) return { [BYTES]: v.toString('base64') };
  if (Array.isArray(v)) {
    return v.map((x, i) => {
      if (x === undefined) throw new OperationEncodingError(`${where}[${i}]: undefined is not data`);
      return encodeValue(x, `${where}[${i}]`);
    });
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === BYTES) throw new OperationEncodingError(`${where}: the key ${BYTES} is reserved`);
      if (x !== undefined) out[k] = encodeValue(x, `${where}.${k}`);
    }
    return out;
  }
  const kind = typeof v === 'object' ? (v as object).constructor?.name ?? 'object' : typeof v;
  throw new OperationEncodingError(`${where}: a ${kind} is not data (an operation holds JSON values and Buffers only)`);
}

function decodeValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeValue);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === BYTES && typeof o[BYTES] === 'string') return Buffer.from(o[BYTES], 'base64');
    return Object.fromEntries(keys.map((k) => [k, decodeValue(o[k])]));
  }
  return v;
}
