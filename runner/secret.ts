// Secrets (vault values, generated passwords, private keys, and everything derived from them) are
// wrapped in Secret and their text registered here, with the forms it takes on the way out (shell
// quoted, JSON escaped, base64, URL encoded). Two nets, both needed:
// - structural: a Secret prints as ******** wherever a value is shown (toString, toJSON, inspect),
//   which also covers values too short to find in text (one character of a password);
// - textual: every reporter passes its output through redact(), so a secret that reached a message,
//   a diff or an error as plain text (a module only ever sees revealed values) is still masked.
import { shQuote } from './connection/quote.js';

export type Scalar = string | number | boolean;

const known = new Set<string>();

export const MASK = '********';

export class Secret<T extends Scalar = string> {
  readonly #value: T;
  constructor(value: T) {
    this.#value = value;
    registerSecret(String(value));
  }
  reveal(): T {
    return this.#value;
  }
  toString(): string {
    return MASK;
  }
  toJSON(): string {
    return MASK;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return MASK;
  }
}

// Shorter texts would mask ordinary words and digits; values that short are masked structurally.
const MIN_LENGTH = 4;
// The text of a secret boolean or none: masking these would mask every JSON `true`.
const WORDS = new Set(['true', 'false', 'null', 'none']);

/** Registers a secret's text and the forms it takes in quoted, escaped or encoded output. */
export function registerSecret(value: string): void {
  if (value.length < MIN_LENGTH || WORDS.has(value.toLowerCase()) || known.has(value)) return;
  // A text that holds a registered secret is masked through it: every form below of a longer text
  // holds the same form of the secret (base64 at any of its three alignments), so the set stays
  // small when whole rendered files become secrets.
  for (const s of known) if (value.includes(s)) return;
  for (const form of outputForms(value)) if (form.length >= MIN_LENGTH) known.add(form);
}

function outputForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  return [
    value,
    shQuote(value),
    value.replace(/'/g, `'\\''`), // inside a longer single-quoted word
    json,
    JSON.stringify(json).slice(1, -1), // JSON inside JSON (a to_json text shown at -vv)
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2), // form encoding: spaces as +
    ...base64Forms(value),
  ];
}

/**
 * The base64 of a text wherever it sits in a longer encoded text: for each of the three byte
 * alignments, the characters that depend on the secret's bytes only.
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = [bytes.toString('base64')];
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.concat([Buffer.alloc(pad), bytes]).toString('base64');
    const from = Math.ceil((pad * 8) / 6);
    const to = Math.floor((pad + bytes.length) / 3) * 4;
    if (to - from >= 8) forms.push(b64.slice(from, to));
  }
  return forms;
}

export function redact(text: string): string {
  if (known.size === 0 || text.length === 0) return text;
  let out = text;
  for (const s of known) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/**
 * `text` with each of `texts` masked as well as the registered secrets: a task's own secret args,
 * which may be too short for the registry (one character of a password in a command line). A short
 * one is masked where it stands as a word of its own, so it does not mangle the rest.
 */
export function maskTexts(text: string, texts: ReadonlySet<string>): string {
  let out = redact(text);
  for (const t of [...texts].sort((a, b) => b.length - a.length)) {
    if (t === '' || !out.includes(t)) continue;
    if (t.length >= MIN_LENGTH) out = out.split(t).join(MASK);
    else out = out.replace(new RegExp(`(?<![A-Za-z0-9])${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`, 'g'), MASK);
  }
  return out;
}

/** Whether a text holds any registered secret (a module's output that echoes a password). */
export function holdsSecret(text: string): boolean {
  for (const s of known) if (text.includes(s)) return true;
  return false;
}

/** [start, end) of every registered secret in a line, merged where they overlap. */
export function secretSpans(line: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const s of known) {
    for (let i = line.indexOf(s); i !== -1; i = line.indexOf(s, i + 1)) spans.push([i, i + s.length]);
  }
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: Array<[number, number]> = [];
  for (const [a, b] of spans) {
    const last = merged.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

export function isSecret(v: unknown): v is Secret<Scalar> {
  return v instanceof Secret;
}

/** Whether a value tree holds a Secret anywhere. */
export function containsSecret(v: unknown): boolean {
  if (v instanceof Secret) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (isPlainData(v)) return Object.values(v).some(containsSecret);
  return false;
}

/** The text of every Secret in a value tree (a task's args: what a module's output may echo). */
export function secretTexts(v: unknown, into = new Set<string>()): Set<string> {
  if (v instanceof Secret) into.add(String(v.reveal()));
  else if (Array.isArray(v)) for (const x of v) secretTexts(x, into);
  else if (isPlainData(v)) for (const x of Object.values(v)) secretTexts(x, into);
  return into;
}

/**
 * A module's result with every scalar that holds a secret made a Secret again: a string holding a
 * registered secret (a command that echoes a password, a config file read back), or a string or
 * number that is exactly the text of one of `echoed` (the task's own secret args, however short).
 */
export function retaint(v: unknown, echoed: ReadonlySet<string> = new Set()): unknown {
  if (typeof v === 'string') return echoed.has(v) || holdsSecret(v) ? new Secret(v) : v;
  if (typeof v === 'number') return echoed.has(String(v)) ? new Secret(v) : v;
  if (Array.isArray(v)) return v.map((x) => retaint(x, echoed));
  if (isPlainData(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: retaint(x, echoed), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

/** Replace every Secret in a value tree by its plain value (for modules, which take plain data). */
export function revealAll(v: unknown): unknown {
  if (v instanceof Secret) return v.reveal();
  if (Array.isArray(v)) return v.map(revealAll);
  if (isPlainData(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: revealAll(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

function isPlainData(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
