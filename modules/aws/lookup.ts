// Finding rplay's resources by identity: Name tag (+ project tag), inside their VPC where they have one.
import type { EC2, Filter, InternetGateway, RouteTable, SecurityGroup, Subnet, Vpc } from '@aws-sdk/client-ec2';
import { identityFilters, identityText, onlyOne } from './tags.js';

export interface Identity {
  name: string;
  project?: string;
}

const inVpc = (vpcId: string | undefined): Filter[] => (vpcId === undefined ? [] : [{ Name: 'vpc-id', Values: [vpcId] }]);

export async function findVpc(ec2: EC2, id: Identity): Promise<Vpc | null> {
  const { Vpcs = [] } = await ec2.describeVpcs({ Filters: identityFilters(id.name, id.project) });
  return onlyOne('VPC', identityText(id.name, id.project), Vpcs, (v) => v.VpcId);
}

/** In vpcId, or in any VPC when it is not given. */
export async function findSubnet(ec2: EC2, id: Identity, vpcId?: string): Promise<Subnet | null> {
  const { Subnets = [] } = await ec2.describeSubnets({ Filters: [...identityFilters(id.name, id.project), ...inVpc(vpcId)] });
  return onlyOne('subnet', identityText(id.name, id.project), Subnets, (s) => s.SubnetId);
}

export async function findInternetGateway(ec2: EC2, id: Identity): Promise<InternetGateway | null> {
  const { InternetGateways = [] } = await ec2.describeInternetGateways({ Filters: identityFilters(id.name, id.project) });
  return onlyOne('internet gateway', identityText(id.name, id.project), InternetGateways, (g) => g.InternetGatewayId);
}

export async function findRouteTable(ec2: EC2, id: Identity, vpcId: string): Promise<RouteTable | null> {
  const { RouteTables = [] } = await ec2.describeRouteTables({ Filters: [...identityFilters(id.name, id.project), ...inVpc(vpcId)] });
  return onlyOne('route table', identityText(id.name, id.project), RouteTables, (t) => t.RouteTableId);
}

/** A security group's name is unique in its VPC (EC2 enforces it): that is its identity. */
export async function findSecurityGroup(ec2: EC2, name: string, vpcId: string): Promise<SecurityGroup | null> {
  const { SecurityGroups = [] } = await ec2.describeSecurityGroups({ Filters: [{ Name: 'group-name', Values: [name] }, ...inVpc(vpcId)] });
  return SecurityGroups[0] ?? null;
}
