// An emulator in memory and SDK clients pointed at it over HTTP, as rplay's modules will reach it.
import { EC2Client } from '@aws-sdk/client-ec2';
import { startEc2Emulator, type Ec2Emulator, type Ec2EmulatorOptions } from '../../../lab/ec2/emulator.js';

// Node 20 is supported by this SDK release; its notice about future releases is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface TestEc2 {
  emu: Ec2Emulator;
  /** A client signing for `region` (us-east-1 by default) with made-up credentials. */
  client(region?: string): EC2Client;
  close(): Promise<void>;
}

export async function testEc2(opts: Ec2EmulatorOptions = {}): Promise<TestEc2> {
  const emu = await startEc2Emulator({ delays: { instance: 0, snapshot: 0, volume: 0 }, ...opts });
  const clients: EC2Client[] = [];
  return {
    emu,
    client(region = 'us-east-1') {
      const c = new EC2Client({ region, endpoint: emu.url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-checked' } });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      await emu.close();
    },
  };
}

/** Waiter timing for an emulator whose delays are milliseconds, not minutes. */
export function fast(client: EC2Client): { client: EC2Client; maxWaitTime: number; minDelay: number; maxDelay: number } {
  return { client, maxWaitTime: 10, minDelay: 0.01, maxDelay: 0.05 };
}

/** The error a call fails with (the test fails when it succeeds). */
export async function failure(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number; attempts?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail, it succeeded');
}

export const nameTag = (type: 'vpc' | 'subnet' | 'instance' | 'volume' | 'snapshot' | 'security-group' | 'internet-gateway' | 'route-table', name: string, extra: Record<string, string> = {}) => [
  { ResourceType: type, Tags: [{ Key: 'Name', Value: name }, ...Object.entries(extra).map(([Key, Value]) => ({ Key, Value }))] },
];
