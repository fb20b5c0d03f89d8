// The EC2 Query API's shapes, taken from the service model that @aws-sdk/client-ec2 ships (its Smithy
// schemas): request parameter names and response element names come from there, so what the emulator
// reads and writes is exactly what the SDK writes and reads.
import * as ec2 from '@aws-sdk/client-ec2';
import { NormalizedSchema } from '@smithy/core/schema';

export interface OperationShapes {
  input: NormalizedSchema;
  output: NormalizedSchema;
}

const OPERATION = 9; // the schema id of an operation in Smithy's static schema arrays
const models = ec2 as unknown as Record<string, unknown>;
const cache = new Map<string, OperationShapes>();

type SchemaRef = Parameters<typeof NormalizedSchema.of>[0];

/** Smithy's static operation schema: [9, namespace, name, traits, input, output]. */
function isOperation(value: unknown): value is [number, string, string, unknown, SchemaRef, SchemaRef] {
  return Array.isArray(value) && value.length === 6 && value[0] === OPERATION;
}

/** The input and output shapes of an EC2 action, or null when EC2 has no such action. */
export function operationShapes(action: string): OperationShapes | null {
  const cached = cache.get(action);
  if (cached !== undefined) return cached;
  // Only plain action names: the lookup must not reach other exports of the SDK module.
  if (!/^[A-Z][A-Za-z0-9]+$/.test(action)) return null;
  const op = models[`${action}$`];
  if (!isOperation(op)) return null;
  const shapes = { input: NormalizedSchema.of(op[4]), output: NormalizedSchema.of(op[5]) };
  cache.set(action, shapes);
  return shapes;
}
