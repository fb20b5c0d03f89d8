// File changes as unified diffs (`--- before: path` / `+++ after: path`, 3 lines of context), the
// form `--diff` users know from Ansible and git. Binary content is summarised, not dumped.
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import type { FileDiff } from '../types.js';

export function renderDiff(diffs: FileDiff[]): string {
  return diffs
    .filter((d) => d.before !== d.after)
    .map((d) => {
      if (looksBinary(d.before) || looksBinary(d.after)) {
        return (
          `--- before: ${d.path}\n+++ after: ${d.path}\n` +
          `binary content differs (${Buffer.byteLength(d.before)} → ${Buffer.byteLength(d.after)} bytes)\n`
        );
      }
      // The library marks a last line without newline with git's "\ No newline at end of file".
      return createTwoFilesPatch(`before: ${d.path}`, `after: ${d.path}`, d.before, d.after, undefined, undefined, {
        context: 3,
        headerOptions: FILE_HEADERS_ONLY,
      });
    })
    .join('');
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
