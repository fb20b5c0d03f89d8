// `when:`, `changed_when:`, `failed_when:`, `until:` — bare expressions, all of which must hold.
import { ExpressionError } from './errors.js';
import { evaluateExpression } from './expression/evaluate.js';
import { parseExpression } from './expression/parse.js';
import { truthy, type VarSource } from './expression/values.js';
import { Secret } from '../secret.js';
import { parseTemplate } from './interpolate.js';

/** Ansible users sometimes wrap a condition in `{{ }}`; accept exactly that, nothing more. */
function bare(condition: string): string {
  if (!condition.includes('{{')) return condition;
  const segments = parseTemplate(condition.trim());
  const [only] = segments;
  if (segments.length === 1 && only && 'expr' in only) return only.expr;
  throw new ExpressionError(`condition '${condition}' mixes {{ }} with text: write a bare expression, e.g. when: x == 'a'`);
}

const FALSE_WORDS = new Set(['false', 'no', 'off', '0', '']);
const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);

/**
 * Truth in a condition, as Ansible reads it: a string is a boolean word (`"false"`, `"no"`, `"off"`,
 * `"0"`, `""` are false; `"true"`, `"yes"`, `"on"`, `"1"` true; trimmed, any case) — a variable
 * holding `"false"` must not run a task. Any other string is neither, and guessing would be a silent
 * wrong result either way (Python's rule makes `"disabled"` true), so it is an error that says how
 * to write the test. Other values follow Python (0, none, empty list/mapping are false).
 */
export function conditionTruth(condition: string): (value: unknown) => boolean {
  return (value) => {
    const text = value instanceof Secret ? value.reveal() : value;
    if (typeof text !== 'string') return truthy(value);
    const word = text.trim().toLowerCase();
    if (FALSE_WORDS.has(word)) return false;
    if (TRUE_WORDS.has(word)) return true;
    const shown = value instanceof Secret ? 'a secret string' : `the string '${text.length > 40 ? `${text.slice(0, 40)}…` : text}'`;
    throw new ExpressionError(
      `condition '${condition}' tests ${shown}, which is neither true (true/yes/on/1) nor false (false/no/off/0/empty): ` +
        `compare it instead, e.g. x != '' or x == 'value', or convert it with | bool`,
    );
  };
}

/** Syntax check before anything runs; throws ExpressionError. */
export function checkCondition(condition: string | boolean): void {
  if (typeof condition === 'string') parseExpression(bare(condition));
}

export function evaluateCondition(condition: string | boolean, vars: VarSource): boolean {
  if (typeof condition === 'boolean') return condition;
  const truth = conditionTruth(condition);
  return truth(evaluateExpression(bare(condition), vars, truth));
}

/** True when every condition holds (Ansible's list form of `when:`); stops at the first false one. */
export function evaluateWhen(conditions: string | boolean | readonly (string | boolean)[], vars: VarSource): boolean {
  const list = Array.isArray(conditions) ? conditions : [conditions];
  return list.every((c: string | boolean) => evaluateCondition(c, vars));
}
