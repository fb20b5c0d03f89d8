// The background half of the volume and snapshot actions: creating → available, attaching → attached,
// detaching → available, pending → completed, with the contents copied or moved on the way.
import type { InstanceRecord, RegionState, SnapshotRecord, VolumeRecord } from '../account.js';
import type { Ec2Runtime } from '../context.js';
import { JobsClosed } from '../jobs.js';
import { copySnapshotContents, moveOffHost, moveOntoHost, removeSnapshotContents, removeVolumeContents, restoreSnapshot } from './contents.js';

async function guarded(rt: Ec2Runtime, what: string, work: () => Promise<void>, onFailure: () => void): Promise<boolean> {
  try {
    await work();
    return true;
  } catch (e) {
    if (e instanceof JobsClosed) throw e;
    rt.log(`${what}: ${(e as Error).message}`);
    onFailure();
    rt.save();
    return false;
  }
}

/** creating → available, with the snapshot's contents when made from one. */
export function createVolume(rt: Ec2Runtime, regionName: string, vol: VolumeRecord, snap: SnapshotRecord | null): void {
  rt.jobs.enqueue(vol.id, async () => {
    const work = async (): Promise<void> => {
      await Promise.all([snap === null ? undefined : restoreSnapshot(rt, regionName, snap, vol), rt.jobs.sleep(rt.delays.volume)]);
    };
    if (await guarded(rt, vol.id, work, () => void (vol.state = 'error'))) {
      if (vol.state === 'creating') vol.state = 'available';
      rt.save();
    }
  });
}

/** attaching → attached. A volume attached at a lab-backed instance's root device becomes the host's disk. */
export function attachVolume(rt: Ec2Runtime, regionName: string, vol: VolumeRecord, inst: InstanceRecord): void {
  rt.jobs.enqueue(inst.id, async () => {
    const atRoot = vol.attachment?.device === inst.rootDeviceName;
    const work = async (): Promise<void> => {
      await Promise.all([atRoot && inst.host !== null ? moveOntoHost(rt, regionName, vol, inst.host) : undefined, rt.jobs.sleep(rt.delays.volume)]);
    };
    if (await guarded(rt, `${vol.id} → ${inst.id}`, work, () => void (vol.state = 'error'))) {
      if (vol.attachment?.state === 'attaching') vol.attachment.state = 'attached';
      rt.save();
    }
  });
}

/** detaching → available; a root volume's contents leave the host. */
export function detachVolume(rt: Ec2Runtime, regionName: string, vol: VolumeRecord, inst: InstanceRecord): void {
  rt.jobs.enqueue(inst.id, async () => {
    const work = async (): Promise<void> => {
      await Promise.all([moveOffHost(rt, regionName, vol), rt.jobs.sleep(rt.delays.volume)]);
    };
    if (await guarded(rt, `${vol.id} ← ${inst.id}`, work, () => void (vol.state = 'error'))) {
      vol.attachment = null;
      vol.state = 'available';
      rt.save();
    }
  });
}

/** deleting → gone. */
export function deleteVolume(rt: Ec2Runtime, regionName: string, region: RegionState, vol: VolumeRecord): void {
  rt.jobs.enqueue(vol.id, async () => {
    const work = async (): Promise<void> => {
      await Promise.all([removeVolumeContents(rt, regionName, vol), rt.jobs.sleep(rt.delays.volume)]);
    };
    if (await guarded(rt, vol.id, work, () => void (vol.state = 'error'))) {
      delete region.volumes[vol.id];
      rt.save();
    }
  });
}

async function untilReady(rt: Ec2Runtime, snap: SnapshotRecord): Promise<void> {
  const left = Date.parse(snap.readyAt) - Date.now();
  if (left > 0) await rt.jobs.sleep(left);
}

function complete(rt: Ec2Runtime, snap: SnapshotRecord): void {
  if (snap.state !== 'pending') return;
  snap.state = 'completed';
  snap.completedAt = new Date().toISOString();
  rt.save();
}

/** pending → completed (the contents were copied when the snapshot was taken: see CreateSnapshot). */
export function completeSnapshot(rt: Ec2Runtime, snap: SnapshotRecord): void {
  rt.jobs.enqueue(snap.id, async () => {
    await untilReady(rt, snap);
    complete(rt, snap);
  });
}

/** pending → completed for CopySnapshot (across regions too). */
export function copySnapshot(rt: Ec2Runtime, from: { region: string; snap: SnapshotRecord }, to: { region: string; snap: SnapshotRecord }): void {
  rt.jobs.enqueue(to.snap.id, async () => {
    const work = async (): Promise<void> => {
      await Promise.all([copySnapshotContents(rt, from, to), untilReady(rt, to.snap)]);
    };
    if (await guarded(rt, to.snap.id, work, () => void (to.snap.state = 'error'))) complete(rt, to.snap);
  });
}

/** A deleted snapshot's contents go once any copy still writing them is done. */
export function deleteSnapshotContents(rt: Ec2Runtime, regionName: string, id: string): void {
  rt.jobs.enqueue(id, () => removeSnapshotContents(rt, regionName, id));
}
