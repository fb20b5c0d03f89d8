// The variables API: scopes, `{{ }}` interpolation, conditions and expressions, vars files.
export { ExpressionError, UndefinedVariableError } from './errors.js';
export { evaluateExpression } from './expression/evaluate.js';
export { LOOKUP, UNDEFINED, lazyMapping, toText, truthy, type VarSource } from './expression/values.js';
export { checkCondition, conditionTruth, evaluateCondition, evaluateWhen } from './conditions.js';
export { checkTemplates, hasTemplate, interpolate, renderString } from './interpolate.js';
export { Scope, type VarLayer } from './scope.js';
export { expectVarsMapping, loadVarsFile, setVaultDecrypter, type VaultDecrypter } from './vars-file.js';
