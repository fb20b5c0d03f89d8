// Secrets (vault values, generated passwords, private keys) are wrapped in Secret and their values
// registered here; every reporter passes its output through redact(), so a secret that slipped into a
// message, a diff or an error still never reaches a terminal, log or JSON document.
const known = new Set<string>();

export const MASK = '********';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    registerSecret(value);
  }
  reveal(): string {
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

export function registerSecret(value: string): void {
  // Very short values would mask ordinary words; secrets that short are refused elsewhere.
  if (value.length >= 4) known.add(value);
}

export function redact(text: string): string {
  if (known.size === 0 || text.length === 0) return text;
  let out = text;
  for (const s of known) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

export function isSecret(v: unknown): v is Secret {
  return v instanceof Secret;
}

/** Replace every Secret in a value tree by its plain value (for modules, which take plain data). */
export function revealAll(v: unknown): unknown {
  if (v instanceof Secret) return v.reveal();
  if (Array.isArray(v)) return v.map(revealAll);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = revealAll(x);
    return out;
  }
  return v;
}
