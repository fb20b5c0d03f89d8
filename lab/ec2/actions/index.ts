// Every action the emulator implements, by its EC2 name. EC2 actions missing here are answered with
// UnsupportedOperation, naming the action.
import type { Ec2Context } from '../context.js';
import { CreateTags, DeleteTags, DescribeTags } from '../tags.js';
import { DescribeImages } from './images.js';
import { DescribeInstanceStatus } from './instance-status.js';
import { DescribeInstances, StartInstances, StopInstances, TerminateInstances } from './instances.js';
import { AttachInternetGateway, CreateInternetGateway, DeleteInternetGateway, DescribeInternetGateways, DetachInternetGateway } from './internet-gateways.js';
import { DeleteKeyPair, DescribeKeyPairs, ImportKeyPair } from './key-pairs.js';
import {
  DescribeAvailabilityZones,
  DescribeRegions,
  DisableEbsEncryptionByDefault,
  EnableEbsEncryptionByDefault,
  GetEbsDefaultKmsKeyId,
  GetEbsEncryptionByDefault,
} from './regions.js';
import {
  AssociateRouteTable,
  CreateRoute,
  CreateRouteTable,
  DeleteRoute,
  DeleteRouteTable,
  DescribeRouteTables,
  DisassociateRouteTable,
} from './route-tables.js';
import { RunInstances } from './run-instances.js';
import {
  AuthorizeSecurityGroupEgress,
  AuthorizeSecurityGroupIngress,
  CreateSecurityGroup,
  DeleteSecurityGroup,
  DescribeSecurityGroupRules,
  DescribeSecurityGroups,
  RevokeSecurityGroupEgress,
  RevokeSecurityGroupIngress,
} from './security-groups.js';
import { CopySnapshot, CreateSnapshot, DeleteSnapshot, DescribeSnapshots } from './snapshots.js';
import { CreateSubnet, DeleteSubnet, DescribeSubnets, ModifySubnetAttribute } from './subnets.js';
import { AttachVolume, CreateVolume, DeleteVolume, DescribeVolumes, DetachVolume } from './volumes.js';
import { CreateVpc, DeleteVpc, DescribeVpcAttribute, DescribeVpcs, ModifyVpcAttribute } from './vpcs.js';

/** A handler takes the action's input as the SDK's request type and returns (or resolves to) its result type. */
export type ActionHandler = (ctx: Ec2Context, input: never) => object | Promise<object>;

export const ACTIONS: Readonly<Record<string, ActionHandler>> = {
  CreateVpc, DescribeVpcs, DeleteVpc, ModifyVpcAttribute, DescribeVpcAttribute,
  CreateSubnet, DescribeSubnets, DeleteSubnet, ModifySubnetAttribute,
  CreateInternetGateway, AttachInternetGateway, DetachInternetGateway, DescribeInternetGateways, DeleteInternetGateway,
  CreateRouteTable, CreateRoute, DeleteRoute, AssociateRouteTable, DisassociateRouteTable, DescribeRouteTables, DeleteRouteTable,
  CreateSecurityGroup, DescribeSecurityGroups, DescribeSecurityGroupRules, DeleteSecurityGroup,
  AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress, AuthorizeSecurityGroupEgress, RevokeSecurityGroupEgress,
  ImportKeyPair, DescribeKeyPairs, DeleteKeyPair,
  DescribeImages,
  RunInstances, DescribeInstances, DescribeInstanceStatus, StopInstances, StartInstances, TerminateInstances,
  CreateTags, DeleteTags, DescribeTags,
  CreateVolume, DescribeVolumes, AttachVolume, DetachVolume, DeleteVolume,
  CreateSnapshot, DescribeSnapshots, CopySnapshot, DeleteSnapshot,
  EnableEbsEncryptionByDefault, DisableEbsEncryptionByDefault, GetEbsEncryptionByDefault, GetEbsDefaultKmsKeyId,
  DescribeAvailabilityZones, DescribeRegions,
};
