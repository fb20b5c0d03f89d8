// @aws-sdk/client-ec2 is loaded on first use, so runs that never touch EC2 (most of them) never pay
// for it. It is a CommonJS package: require() loads it in ~130 ms where import() takes ~260 ms (Node
// scans the 2 MB bundle for its export names first).
import { createRequire } from 'node:module';

export type Ec2Sdk = typeof import('@aws-sdk/client-ec2');

const require = createRequire(import.meta.url);
let sdk: Ec2Sdk | undefined;

export function loadEc2Sdk(): Ec2Sdk {
  sdk ??= require('@aws-sdk/client-ec2') as Ec2Sdk;
  return sdk;
}
