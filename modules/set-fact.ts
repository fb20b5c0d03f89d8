import { Type } from '@sinclair/typebox';
import { defineModule } from '../runner/types.js';

/** Free-form `name: value` pairs become host variables for the rest of the run (Secrets stay Secrets). */
export const setFact = defineModule({
  name: 'set_fact',
  keepsSecrets: true,
  schema: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.Unknown(), {
    minProperties: 1,
    additionalProperties: false,
  }),
  async gather() {},
  plan: (args) => ({ changes: [], setVars: { ...args }, result: { ansible_facts: { ...args } } }),
});
