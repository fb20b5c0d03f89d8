import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { awsArgs, awsSettings } from './aws/module-args.js';
import { planOf, runSteps, type Step } from './aws/steps.js';
import { defineModule } from '../runner/types.js';

const schema = Type.Object(
  {
    /** Every new EBS volume of the region encrypted (default true). */
    enabled: Type.Optional(Type.Boolean()),
    ...awsArgs,
  },
  { additionalProperties: false },
);

export interface EbsDefaultActual {
  region: string;
  enabled: boolean;
}

export function ebsDefaultSteps(enabled: boolean, actual: EbsDefaultActual): Step<object>[] {
  if (actual.enabled === enabled) return [];
  return [
    enabled
      ? { description: `EnableEbsEncryptionByDefault in ${actual.region}`, run: async (ec2) => void (await ec2.enableEbsEncryptionByDefault({})) }
      : { description: `DisableEbsEncryptionByDefault in ${actual.region}`, run: async (ec2) => void (await ec2.disableEbsEncryptionByDefault({})) },
  ];
}

/** The region's EBS encryption by default: every new volume encrypted, whoever creates it. */
export const ec2EbsDefaultEncryption = defineModule({
  name: 'ec2_ebs_default_encryption',
  schema,
  async gather(ctx, args): Promise<EbsDefaultActual> {
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    const r = await ec2.getEbsEncryptionByDefault({});
    return { region: settings.region, enabled: r.EbsEncryptionByDefault ?? false };
  },
  plan: (args, actual) =>
    planOf(ebsDefaultSteps(args.enabled ?? true, actual), `EBS encryption by default is ${actual.enabled ? 'on' : 'off'} in ${actual.region}`, { ebs_encryption_by_default: actual.enabled }),
  async legacyApply(ctx, args, _plan, actual) {
    const enabled = args.enabled ?? true;
    await runSteps(await ec2Client(awsSettings(args, ctx.vars)), ebsDefaultSteps(enabled, actual), {});
    return { result: { ebs_encryption_by_default: enabled } };
  },
});
