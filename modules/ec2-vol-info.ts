import type { Volume } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import { ec2Client } from './aws/client.js';
import { awsArgs, awsSettings } from './aws/module-args.js';
import { tagMap } from './aws/tags.js';
import { defineModule, type Vars } from '../runner/types.js';

const schema = Type.Object(
  {
    /** EC2's DescribeVolumes filters, as amazon.aws's ec2_vol_info takes them: {"attachment.instance-id": "i-…", "tag:Name": "…"}. */
    filters: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Union([Type.String(), Type.Array(Type.String())]))),
    volume_ids: Type.Optional(Type.Array(Type.String({ pattern: '^vol-[0-9a-f]+$' }))),
    ...awsArgs,
  },
  { additionalProperties: false },
);

/** A volume in amazon.aws ec2_vol_info's shape (snake_case, attachment_set, zone, status). */
function volumeVars(v: Volume): Vars {
  return {
    id: v.VolumeId,
    encrypted: v.Encrypted ?? false,
    kms_key_id: v.KmsKeyId ?? null,
    size: v.Size,
    type: v.VolumeType,
    iops: v.Iops ?? null,
    throughput: v.Throughput ?? null,
    zone: v.AvailabilityZone,
    status: v.State,
    snapshot_id: v.SnapshotId || null,
    attachment_set: (v.Attachments ?? []).map((a) => ({
      instance_id: a.InstanceId,
      device: a.Device,
      status: a.State,
      delete_on_termination: a.DeleteOnTermination ?? false,
    })),
    tags: tagMap(v.Tags),
  };
}

/** Reads EBS volumes (by filters and/or ids) into `volumes`; never changes anything. */
export const ec2VolInfo = defineModule({
  name: 'ec2_vol_info',
  schema,
  async gather(ctx, args): Promise<Vars[]> {
    const ec2 = await ec2Client(awsSettings(args, ctx.vars));
    const Filters = Object.entries(args.filters ?? {}).map(([Name, v]) => ({ Name, Values: Array.isArray(v) ? v : [v] }));
    const { Volumes = [] } = await ec2.describeVolumes({
      ...(Filters.length === 0 ? {} : { Filters }),
      ...(args.volume_ids === undefined ? {} : { VolumeIds: args.volume_ids }),
    });
    return Volumes.map(volumeVars);
  },
  plan: (_args, volumes) => ({ changes: [], msg: `${volumes.length} volume(s)`, result: { volumes } }),
});
