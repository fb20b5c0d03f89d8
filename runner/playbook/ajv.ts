import { Ajv, type ValidateFunction } from 'ajv';

/** One ajv for playbook keywords and module args: `verbose` gives describeSchemaErrors the schemas. */
export const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });

export function compile(schema: object): ValidateFunction {
  return ajv.compile(schema);
}
