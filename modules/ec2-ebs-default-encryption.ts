import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { call, callsOp, held, type Ec2Op, type HeldSettings } from './aws/ec2-operation.js';
import { applyEc2, planOf } from './aws/ec2-plan.js';
import { awsArgs, awsSettings } from './aws/module-args.js';
import { defineModule, type Plan } from '../runner/types.js';

const schema = Type.Object(
  {
    /** Every new EBS volume of the region encrypted (default true). */
    enabled: Type.Optional(Type.Boolean()),
    ...awsArgs,
  },
  { additionalProperties: false },
);

export interface EbsDefaultActual {
  aws: HeldSettings;
  region: string;
  enabled: boolean;
}

export function ebsDefaultPlan(args: { enabled?: boolean }, actual: EbsDefaultActual): Plan<Ec2Op> {
  const enabled = args.enabled ?? true;
  const action = enabled ? 'EnableEbsEncryptionByDefault' : 'DisableEbsEncryptionByDefault';
  const changes =
    actual.enabled === enabled ? [] : [{ description: `${action} in ${actual.region}`, op: callsOp(actual.aws, [call(action, {})], { ebs_encryption_by_default: enabled }) }];
  return planOf(changes, `EBS encryption by default is ${actual.enabled ? 'on' : 'off'} in ${actual.region}`, { ebs_encryption_by_default: actual.enabled });
}

/** The region's EBS encryption by default: every new volume encrypted, whoever creates it. */
export const ec2EbsDefaultEncryption = defineModule({
  name: 'ec2_ebs_default_encryption',
  schema,
  async gather(ctx, args): Promise<EbsDefaultActual> {
    const settings = awsSettings(args, ctx.vars);
    const ec2 = await ec2Client(settings);
    const r = await ec2.getEbsEncryptionByDefault({});
    return { aws: held(settings), region: settings.region, enabled: r.EbsEncryptionByDefault ?? false };
  },
  plan: ebsDefaultPlan,
  apply: applyEc2,
});
