// An in-memory EC2 emulator reached over HTTP, an SDK client for setting up and checking its account,
// and the ModuleContext a controller-side ec2_* module gets on localhost (its connection unused).
import { EC2 } from '@aws-sdk/client-ec2';
import { startEc2Emulator, type Ec2Emulator, type Ec2EmulatorOptions } from '../../../lab/ec2/emulator.js';
import type { Connection } from '../../../runner/connection/connection.js';
import { inventoryOf } from '../../support/inventory-view.js';
import type { ModuleContext, Plan, Vars } from '../../../runner/types.js';

// Node 20 is supported by this SDK release; its notice about future releases is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const CREDENTIALS = { aws_access_key: 'AKIDTEST', aws_secret_key: 'not-checked' };

export interface TestAccount {
  emu: Ec2Emulator;
  ec2: EC2;
  /** A module context on the controller whose aws_* variables point at the emulator. */
  ctx(projectDir?: string, vars?: Vars): ModuleContext;
  close(): Promise<void>;
}

const noConnection = new Proxy({} as Connection, {
  get: () => {
    throw new Error('an ec2_* module used the host connection');
  },
});

export async function testAccount(opts: Ec2EmulatorOptions = {}, region = 'us-east-1'): Promise<TestAccount> {
  const emu = await startEc2Emulator({ delays: { instance: 0, snapshot: 0, volume: 0 }, ...opts });
  const ec2 = new EC2({ region, endpoint: emu.url, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'not-checked' } });
  return {
    emu,
    ec2,
    ctx: (projectDir = '/nonexistent', vars = {}) => ({
      host: 'localhost',
      conn: noConnection,
      vars: { aws_region: region, aws_endpoint_url: emu.url, ...CREDENTIALS, ...vars },
      inventory: inventoryOf({}),
      projectDir,
      evaluate: () => {
        throw new Error('not used');
      },
    }),
    async close() {
      ec2.destroy();
      await emu.close();
    },
  };
}

export const descriptions = (p: Plan): string[] => p.changes.map((c) => c.description);
