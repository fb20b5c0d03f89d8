// File changes as unified diffs (`--- before: path` / `+++ after: path`, 3 lines of context), the
// form `--diff` users know from Ansible and git. Binary content is summarised, not dumped. Secrets
// are masked on both sides: the old side of a rotated password holds a secret nobody registered.
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { MASK, redact, secretSpans } from '../secret.js';
import type { FileDiff } from '../types.js';

export function renderDiff(diffs: FileDiff[]): string {
  return diffs
    .filter((d) => d.before !== d.after)
    .map((d) => {
      if (looksBinary(d.before) || looksBinary(d.after)) {
        return redact(
          `--- before: ${d.path}\n+++ after: ${d.path}\n` +
            `binary content differs (${Buffer.byteLength(d.before)} → ${Buffer.byteLength(d.after)} bytes)\n`,
        );
      }
      // The library marks a last line without newline with git's "\ No newline at end of file".
      const patch = createTwoFilesPatch(`before: ${d.path}`, `after: ${d.path}`, d.before, d.after, undefined, undefined, {
        context: 3,
        headerOptions: FILE_HEADERS_ONLY,
      });
      return maskPatch(patch, d.after.split('\n'));
    })
    .join('');
}

/**
 * Every line of the patch with its secrets masked. A removed line has its registered secrets
 * masked, and where it has the shape of an after-line that holds a secret (the same text around
 * the secret's place: `masterauth <old>` against `masterauth <new>`), the old value in that place.
 */
function maskPatch(patch: string, afterLines: readonly string[]): string {
  const shapes = afterLines.flatMap((line, index) => {
    const spans = secretSpans(line);
    return spans.length ? [{ index, parts: literalParts(line, spans) }] : [];
  });
  let removed = -1; // line number in the before text, from the hunk headers
  return patch
    .split('\n')
    .map((line, i) => {
      const hunk = /^@@ -(\d+)/.exec(line);
      if (hunk) removed = Number(hunk[1]) - 1;
      // The first two lines are the ---/+++ headers (a removed line may itself start with "-- ").
      if (i < 2 || !line.startsWith('-')) {
        if (line.startsWith(' ')) removed++;
        return mask(line, secretSpans(line));
      }
      const body = line.slice(1);
      const at = removed++;
      const spans = [...secretSpans(body)];
      for (const s of shapes) {
        // A line that is a secret and nothing else has no shape: it is matched at its own place.
        if (s.parts.join('') === '' && s.index !== at) continue;
        spans.push(...(matchShape(body, s.parts) ?? []));
      }
      return '-' + mask(body, spans);
    })
    .join('\n');
}

/** The text between the secrets of a line: one more part than there are secrets. */
function literalParts(line: string, spans: ReadonlyArray<readonly [number, number]>): string[] {
  const parts: string[] = [];
  let pos = 0;
  for (const [a, b] of spans) {
    parts.push(line.slice(pos, a));
    pos = b;
  }
  parts.push(line.slice(pos));
  return parts;
}

/**
 * Where `line` has the literal parts in order with something non-empty between them: those spans.
 * (Inner parts are never empty: secretSpans merges adjacent spans.)
 */
function matchShape(line: string, parts: readonly string[]): Array<[number, number]> | null {
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const end = line.length - last.length;
  if (!line.startsWith(first) || !line.endsWith(last) || end <= first.length) return null;
  const spans: Array<[number, number]> = [];
  let pos = first.length;
  for (const part of parts.slice(1, -1)) {
    const at = line.indexOf(part, pos + 1);
    if (at === -1 || at + part.length >= end) return null;
    spans.push([pos, at]);
    pos = at + part.length;
  }
  spans.push([pos, end]);
  return spans;
}

function mask(line: string, spans: ReadonlyArray<readonly [number, number]>): string {
  if (spans.length === 0) return line;
  const sorted = [...spans].sort((x, y) => x[0] - y[0]);
  let out = '';
  let pos = 0;
  for (const [a, b] of sorted) {
    if (b <= pos) continue;
    out += line.slice(pos, Math.max(a, pos)) + MASK;
    pos = b;
  }
  return out + line.slice(pos);
}

/**
 * A NUL byte (git's test), or over 10% control or replacement characters (bytes that were not
 * UTF-8), in the first 8000 characters.
 */
function looksBinary(text: string): boolean {
  const head = text.slice(0, 8000);
  if (head.includes('\0')) return true;
  const control = head.match(/[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]/g)?.length ?? 0;
  return head.length > 0 && control / head.length > 0.1;
}
