// @aws-sdk/client-ec2 costs ~240 ms to import: it is loaded on first use, so runs that never touch
// EC2 (most of them) never pay for it.
export type Ec2Sdk = typeof import('@aws-sdk/client-ec2');

let loading: Promise<Ec2Sdk> | undefined;

export function loadEc2Sdk(): Promise<Ec2Sdk> {
  loading ??= import('@aws-sdk/client-ec2');
  return loading;
}
