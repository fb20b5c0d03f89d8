// Validators for playbook keywords and module args. `npm run build` compiles them ahead of time
// (modules/precompile.ts → ajv standalone code in dist/); then start-up loads ajv's small runtime
// helpers only. Without that step (a bare `tsc`, a test's own schema) a schema is compiled on first
// use, by one ajv: `verbose` gives describeSchemaErrors the schemas.
import { createRequire } from 'node:module';
import type { Ajv, Options, ValidateFunction } from 'ajv';
import { precompiled } from './precompiled.js';

/** The options every validator is built with, ahead of time or here. */
export const AJV_OPTIONS: Options = { allErrors: true, verbose: true, strict: false };

// ajv is CommonJS and costs ~80 ms to load: required synchronously, on the first compile only.
const require = createRequire(import.meta.url);
let ajv: Ajv | undefined;

export function compile(schema: object): ValidateFunction {
  if (!ajv) {
    const { Ajv } = require('ajv') as typeof import('ajv');
    ajv = new Ajv(AJV_OPTIONS);
  }
  return ajv.compile(schema);
}

/** The ahead-of-time validator named `name` (see modules/precompile.ts), if this build has it. */
export function precompiledValidator(name: string): ValidateFunction | undefined {
  const file = precompiled?.validators[name];
  return file === undefined ? undefined : (require(`./validators/${file}`) as ValidateFunction);
}

/** A keyword schema's validator: ahead of time when built so, else compiled once here. */
export function keywordValidator(name: string, schema: object): ValidateFunction {
  return precompiledValidator(`keywords.${name}`) ?? compile(schema);
}
