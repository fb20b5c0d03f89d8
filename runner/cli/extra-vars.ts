// -e key=value [key2=value2 …], -e @vars.yml, -e '{"json": true}' — Ansible's three forms.
import { loadVarsFile } from '../vars/vars-file.js';
import type { Vars } from '../types.js';
import { parseYaml } from '../yaml/load.js';
import { InputError } from '../yaml/load.js';

export async function parseExtraVars(args: readonly string[]): Promise<Vars> {
  const out: Vars = {};
  for (const a of args) {
    if (a.startsWith('@')) Object.assign(out, await loadVarsFile(a.slice(1)));
    else if (a.trimStart().startsWith('{')) {
      const v = parseYaml(a, '-e');
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError(`-e '${a}': expected a mapping`);
      Object.assign(out, v);
    } else {
      for (const word of splitWords(a)) {
        const eq = word.indexOf('=');
        if (eq <= 0) throw new InputError(`-e '${a}': expected key=value, @file.yml or a JSON/YAML mapping`);
        out[word.slice(0, eq)] = word.slice(eq + 1);
      }
    }
  }
  return out;
}

/** Split on spaces outside quotes, as a shell would, removing the quotes. */
function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let any = false;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      any = true;
    } else if (/\s/.test(ch)) {
      if (cur || any) words.push(cur);
      cur = '';
      any = false;
    } else cur += ch;
  }
  if (cur || any) words.push(cur);
  return words;
}
