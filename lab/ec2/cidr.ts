// IPv4 CIDR blocks: parsing, containment and overlap (VPC and subnet ranges), and addresses inside one.
import { Ec2Error } from './ec2-error.js';

export interface Cidr {
  base: number;
  prefix: number;
}

function toNumber(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function toAddress(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** A CIDR block with its host bits zero, or null. */
export function parseCidr(text: string): Cidr | null {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (m === null) return null;
  const base = toNumber(m[1]);
  const prefix = Number(m[2]);
  if (base === null || prefix > 32) return null;
  if (base % 2 ** (32 - prefix) !== 0) return null;
  return { base, prefix };
}

export function cidrOrFail(text: string, parameter: string): Cidr {
  const c = parseCidr(text);
  if (c === null) throw new Ec2Error('InvalidParameterValue', `Value (${text}) for parameter ${parameter} is invalid. This is not a valid CIDR block.`);
  return c;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + size(inner) <= outer.base + size(outer);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** The addresses EC2 lets instances have in a subnet: all but the first four and the last. */
export function usableAddresses(c: Cidr): { first: number; last: number } {
  return { first: c.base + 4, last: c.base + size(c) - 2 };
}
