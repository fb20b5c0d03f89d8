/** Last lines of a command's error output, for a failure message that fits on a screen. */
export function tail(text: string, lines = 10): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}
