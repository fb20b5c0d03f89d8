// `when:`, `changed_when:`, `failed_when:`, `until:` — bare expressions, all of which must hold.
import { ExpressionError } from './errors.js';
import { evaluateExpression } from './expression/evaluate.js';
import { parseExpression } from './expression/parse.js';
import { truthy, type VarSource } from './expression/values.js';
import { parseTemplate } from './interpolate.js';

/** Ansible users sometimes wrap a condition in `{{ }}`; accept exactly that, nothing more. */
function bare(condition: string): string {
  if (!condition.includes('{{')) return condition;
  const segments = parseTemplate(condition.trim());
  const [only] = segments;
  if (segments.length === 1 && only && 'expr' in only) return only.expr;
  throw new ExpressionError(`condition '${condition}' mixes {{ }} with text: write a bare expression, e.g. when: x == 'a'`);
}

/** Syntax check before anything runs; throws ExpressionError. */
export function checkCondition(condition: string | boolean): void {
  if (typeof condition === 'string') parseExpression(bare(condition));
}

export function evaluateCondition(condition: string | boolean, vars: VarSource): boolean {
  return typeof condition === 'boolean' ? condition : truthy(evaluateExpression(bare(condition), vars));
}

/** True when every condition holds (Ansible's list form of `when:`); stops at the first false one. */
export function evaluateWhen(conditions: string | boolean | readonly (string | boolean)[], vars: VarSource): boolean {
  const list = Array.isArray(conditions) ? conditions : [conditions];
  return list.every((c: string | boolean) => evaluateCondition(c, vars));
}
