// After a restart: resources caught mid-transition continue from where they were, and lab hosts are
// powered to match their instances (a `rplay lab up` boots every host; stopped instances' hosts go
// off again, running instances' hosts come back after a `lab down`).
import type { Ec2Runtime } from './context.js';
import { launchInstance, startInstance, stopInstance, terminateInstance } from './lifecycle/instances.js';
import { attachVolume, completeSnapshot, copySnapshot, createVolume, deleteVolume, detachVolume } from './lifecycle/storage.js';

export function resume(rt: Ec2Runtime): void {
  for (const [regionName, region] of Object.entries(rt.account.regions)) {
    // Volume moves first: they are queued per instance, so a start queued after them boots the right disk.
    for (const vol of Object.values(region.volumes)) {
      const inst = vol.attachment === null ? undefined : region.instances[vol.attachment.instanceId];
      if (vol.state === 'creating') createVolume(rt, regionName, vol, vol.snapshotId === null ? null : (region.snapshots[vol.snapshotId] ?? null));
      else if (vol.state === 'deleting') deleteVolume(rt, regionName, region, vol);
      else if (inst !== undefined && vol.attachment?.state === 'attaching') attachVolume(rt, regionName, vol, inst);
      else if (inst !== undefined && vol.attachment?.state === 'detaching') detachVolume(rt, regionName, vol, inst);
    }
    for (const inst of Object.values(region.instances)) {
      if (inst.state === 'pending' && inst.needsInstall) {
        const key = Object.values(region.keyPairs).find((k) => k.name === inst.keyName);
        launchInstance(rt, regionName, region, inst, key?.publicKey ?? null);
      } else if (inst.state === 'pending') {
        startInstance(rt, inst);
      } else if (inst.state === 'stopping') {
        stopInstance(rt, inst);
      } else if (inst.state === 'shutting-down') {
        terminateInstance(rt, regionName, region, inst);
      } else if (inst.host !== null && rt.hosts !== null && inst.state !== 'terminated') {
        const { hosts } = rt;
        const host = inst.host;
        rt.jobs.enqueue(inst.id, () => (inst.state === 'running' ? hosts.powerOn(host) : hosts.powerOff(host)));
      }
    }
    // A CreateSnapshot's contents are copied before it answers; a CopySnapshot's copy may need redoing.
    for (const snap of Object.values(region.snapshots)) {
      if (snap.state !== 'pending') continue;
      const from = snap.copiedFrom;
      const source = from === null ? undefined : rt.account.regions[from.region]?.snapshots[from.snapshotId];
      if (from !== null && !snap.hasData && source !== undefined) copySnapshot(rt, { region: from.region, snap: source }, { region: regionName, snap });
      else if (from !== null && !snap.hasData) snap.state = 'error';
      else completeSnapshot(rt, snap);
    }
  }
  rt.save();
}
