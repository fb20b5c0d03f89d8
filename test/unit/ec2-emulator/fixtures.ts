// A VPC with a subnet per zone and a security group: what instances are launched into.
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';

export interface Network {
  vpcId: string;
  subnets: { a: string; b: string };
  groupId: string;
  imageId: string;
}

/** The newest Canonical Ubuntu 24.04 amd64 image, looked up as rplay does: by owner and name. */
export async function ubuntuImage(ec2: EC2Client): Promise<string> {
  const { Images } = await ec2.send(
    new DescribeImagesCommand({
      Owners: ['099720109477'],
      Filters: [
        { Name: 'name', Values: ['ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*'] },
        { Name: 'state', Values: ['available'] },
      ],
    }),
  );
  const newest = [...(Images ?? [])].sort((x, y) => (x.CreationDate! < y.CreationDate! ? 1 : -1))[0];
  return newest.ImageId!;
}

export async function network(ec2: EC2Client, cidrPrefix = '10.0'): Promise<Network> {
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: `${cidrPrefix}.0.0/16` }))).Vpc!;
  const subnet = async (n: number, az: string): Promise<string> =>
    (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: `${cidrPrefix}.${n}.0/24`, AvailabilityZone: az }))).Subnet!.SubnetId!;
  const region = await ec2.config.region();
  const subnets = { a: await subnet(1, `${region}a`), b: await subnet(2, `${region}b`) };
  const sg = await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc.VpcId, GroupName: 'redis-cluster-sg', Description: 'Redis cluster' }));
  return { vpcId: vpc.VpcId!, subnets, groupId: sg.GroupId!, imageId: await ubuntuImage(ec2) };
}
