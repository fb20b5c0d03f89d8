// An action's output object written as the EC2 Query API's XML: element names from the model's xmlName
// traits, lists as <fooSet><item>…</item></fooSet> — what the SDK's XML deserializer reads.
import type { NormalizedSchema } from '@smithy/core/schema';

export const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

function text(schema: NormalizedSchema, value: unknown): string {
  if (schema.isTimestampSchema()) return new Date(value as string | number | Date).toISOString();
  if (schema.isBlobSchema()) return Buffer.from(value as Uint8Array).toString('base64');
  return escapeXml(String(value));
}

function write(schema: NormalizedSchema, value: unknown, tag: string, out: string[]): void {
  if (schema.isListSchema()) {
    const items = value as unknown[];
    if (items.length === 0) {
      out.push(`<${tag}/>`);
      return;
    }
    const item = schema.getValueSchema();
    const itemTag = item.getMergedTraits().xmlName ?? 'member';
    out.push(`<${tag}>`);
    for (const v of items) if (v != null) write(item, v, itemTag, out);
    out.push(`</${tag}>`);
  } else if (schema.isStructSchema()) {
    out.push(`<${tag}>`);
    writeMembers(schema, value as Record<string, unknown>, out);
    out.push(`</${tag}>`);
  } else {
    out.push(`<${tag}>${text(schema, value)}</${tag}>`);
  }
}

function writeMembers(schema: NormalizedSchema, value: Record<string, unknown>, out: string[]): void {
  for (const [name, member] of schema.structIterator()) {
    const v = value[name];
    if (v != null) write(member, v, member.getMemberTraits().xmlName ?? name, out);
  }
}

/** `<ActionResponse xmlns=…><requestId>…</requestId>…members…</ActionResponse>`. */
export function responseXml(action: string, output: NormalizedSchema, value: object, requestId: string): string {
  const out = [`<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}"><requestId>${requestId}</requestId>`];
  if (output.isStructSchema()) writeMembers(output, value as Record<string, unknown>, out);
  out.push(`</${action}Response>`);
  return out.join('');
}

/** EC2's error document (one error). */
export function errorXml(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}
