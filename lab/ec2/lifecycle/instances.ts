// The background half of the instance actions: the steps between pending and running, stopping and
// stopped, shutting-down and terminated. With lab hosts each step is real: a launch gives the host a
// freshly installed disk and boots it, a stop powers it off, a start boots it from its root volume.
import type { InstanceRecord, RegionState, VolumeRecord } from '../account.js';
import type { Ec2Runtime } from '../context.js';
import { JobsClosed } from '../jobs.js';
import { moveOffHost, removeVolumeContents } from './contents.js';

export function volumesOf(region: RegionState, inst: InstanceRecord): VolumeRecord[] {
  return Object.values(region.volumes).filter((v) => v.attachment?.instanceId === inst.id);
}

export function rootVolumeOf(region: RegionState, inst: InstanceRecord): VolumeRecord | undefined {
  return volumesOf(region, inst).find((v) => v.attachment?.device === inst.rootDeviceName);
}

const internalError = { code: 'Server.InternalError', message: 'Server.InternalError: Internal error on launch' };

/** Runs the step together with the state's delay; a failure other than shutdown is logged and handled. */
async function step(rt: Ec2Runtime, inst: InstanceRecord, work: () => Promise<void>, onFailure: (e: Error) => Promise<void>): Promise<boolean> {
  try {
    await Promise.all([work(), rt.jobs.sleep(rt.delays.instance)]);
    return true;
  } catch (e) {
    if (e instanceof JobsClosed) throw e;
    rt.log(`${inst.id} (${inst.host ?? 'no host'}): ${(e as Error).message}`);
    await onFailure(e as Error).catch((e2: Error) => rt.log(`${inst.id}: ${e2.message}`));
    rt.save();
    return false;
  }
}

/** A terminated instance's volumes: deleted when marked so, else detached (contents back in the store). */
async function releaseVolumes(rt: Ec2Runtime, regionName: string, region: RegionState, inst: InstanceRecord): Promise<void> {
  for (const vol of volumesOf(region, inst)) {
    if (vol.attachment?.deleteOnTermination) {
      await removeVolumeContents(rt, regionName, vol);
      delete region.volumes[vol.id];
    } else {
      await moveOffHost(rt, regionName, vol);
      vol.attachment = null;
      vol.state = 'available';
    }
  }
}

/** pending → running for a new instance: its host gets a fresh disk (the AMI's), then boots. */
export function launchInstance(rt: Ec2Runtime, regionName: string, region: RegionState, inst: InstanceRecord, authorizedKey: string | null): void {
  rt.jobs.enqueue(inst.id, async () => {
    const { hosts, disks } = rt;
    const boot = async (): Promise<void> => {
      if (hosts === null || inst.host === null) return;
      const host = inst.host;
      if (inst.needsInstall) {
        await hosts.powerOff(host);
        const install = (): Promise<void> => hosts.install(host, authorizedKey);
        await (disks === null ? install() : disks.lock.run(install));
        const root = rootVolumeOf(region, inst);
        if (root !== undefined) {
          root.hasData = true;
          root.dataOn = host;
        }
        inst.needsInstall = false;
        rt.save();
      }
      await hosts.powerOn(host);
    };
    const ok = await step(rt, inst, boot, async () => {
      inst.state = 'terminated';
      inst.stateReason = internalError;
      inst.terminatedAt = new Date().toISOString();
      if (hosts !== null && inst.host !== null) await hosts.powerOff(inst.host);
      await releaseVolumes(rt, regionName, region, inst);
    });
    if (ok && inst.state === 'pending') {
      inst.state = 'running';
      rt.save();
    }
  });
}

/** pending → running for a stopped instance: its host boots from whatever volume is its root now. */
export function startInstance(rt: Ec2Runtime, inst: InstanceRecord): void {
  rt.jobs.enqueue(inst.id, async () => {
    const { hosts } = rt;
    const ok = await step(
      rt,
      inst,
      async () => {
        if (hosts !== null && inst.host !== null) await hosts.powerOn(inst.host);
      },
      async () => {
        inst.state = 'stopped';
        inst.publicIp = null;
        inst.stateReason = internalError;
        if (hosts !== null && inst.host !== null) await hosts.powerOff(inst.host);
      },
    );
    if (ok && inst.state === 'pending') {
      inst.state = 'running';
      inst.stateReason = null;
      rt.save();
    }
  });
}

/** stopping → stopped: the host is powered off; the public address is released. */
export function stopInstance(rt: Ec2Runtime, inst: InstanceRecord): void {
  rt.jobs.enqueue(inst.id, async () => {
    const { hosts } = rt;
    const ok = await step(
      rt,
      inst,
      async () => {
        if (hosts !== null && inst.host !== null) await hosts.powerOff(inst.host);
      },
      async () => undefined,
    );
    if (ok && inst.state === 'stopping') {
      inst.state = 'stopped';
      inst.publicIp = null;
      inst.stateReason = { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' };
      rt.save();
    }
  });
}

/** shutting-down → terminated: the host is powered off and freed; volumes deleted or detached. */
export function terminateInstance(rt: Ec2Runtime, regionName: string, region: RegionState, inst: InstanceRecord): void {
  rt.jobs.enqueue(inst.id, async () => {
    const { hosts } = rt;
    const ok = await step(
      rt,
      inst,
      async () => {
        if (hosts !== null && inst.host !== null) await hosts.powerOff(inst.host);
        await releaseVolumes(rt, regionName, region, inst);
      },
      async () => undefined,
    );
    if (ok) {
      inst.state = 'terminated';
      inst.publicIp = null;
      inst.terminatedAt = new Date().toISOString();
      inst.stateReason = { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' };
      rt.save();
    }
  });
}
