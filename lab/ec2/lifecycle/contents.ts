// Where a volume's contents are. A volume that is the root of a lab-backed instance lives in that host's
// root folder (the host boots from it); any other volume, and every snapshot, lives in the emulator's
// store. Attaching a volume as a root moves its folder onto the host, detaching moves it back, so the
// host always boots from exactly the volume attached at its root device.
import { join } from 'node:path';
import type { SnapshotRecord, VolumeRecord } from '../account.js';
import type { Ec2Runtime } from '../context.js';

/** The folder holding the volume's contents now (call under the disk lock), or null when it has none. */
export function volumeContents(rt: Ec2Runtime, region: string, vol: VolumeRecord): string | null {
  if (rt.disks === null || !vol.hasData) return null;
  if (vol.dataOn !== null && rt.hosts !== null) return rt.hosts.rootDir(vol.dataOn);
  return rt.disks.volumeDir(region, vol.id);
}

/** Makes the volume the disk host `host` boots from. */
export async function moveOntoHost(rt: Ec2Runtime, region: string, vol: VolumeRecord, host: string): Promise<void> {
  const { disks, hosts } = rt;
  if (disks === null || hosts === null) return;
  await disks.lock.run(async () => {
    if (vol.dataOn === host) return;
    const target = hosts.rootDir(host);
    // A folder no volume accounts for (the lab changed behind the emulator's back) is kept, not lost.
    if (disks.exists(target)) await disks.move(target, join(disks.dir, 'orphaned', `${host}-${Date.now()}`));
    if (vol.hasData) await disks.move(disks.volumeDir(region, vol.id), target);
    vol.dataOn = host;
  });
}

/** Takes the volume's contents off its host, back into the store. */
export async function moveOffHost(rt: Ec2Runtime, region: string, vol: VolumeRecord): Promise<void> {
  const { disks, hosts } = rt;
  if (disks === null || hosts === null) return;
  await disks.lock.run(async () => {
    if (vol.dataOn === null) return;
    const source = hosts.rootDir(vol.dataOn);
    if (disks.exists(source)) {
      await disks.move(source, disks.volumeDir(region, vol.id));
      vol.hasData = true;
    }
    vol.dataOn = null;
  });
}

export async function removeVolumeContents(rt: Ec2Runtime, region: string, vol: VolumeRecord): Promise<void> {
  const { disks } = rt;
  if (disks === null) return;
  await disks.lock.run(async () => {
    const path = volumeContents(rt, region, vol);
    if (path !== null) disks.remove(path);
    vol.hasData = false;
    vol.dataOn = null;
  });
}

/** Point-in-time copy of a volume into a snapshot. */
export async function snapshotVolume(rt: Ec2Runtime, region: string, vol: VolumeRecord, snap: SnapshotRecord): Promise<void> {
  const { disks } = rt;
  if (disks === null) return;
  await disks.lock.run(async () => {
    const from = volumeContents(rt, region, vol);
    if (from === null || !disks.exists(from)) return;
    await disks.copy(from, disks.snapshotDir(region, snap.id));
    snap.hasData = true;
  });
}

/** A new volume's contents from a snapshot. */
export async function restoreSnapshot(rt: Ec2Runtime, region: string, snap: SnapshotRecord, vol: VolumeRecord): Promise<void> {
  const { disks } = rt;
  if (disks === null || !snap.hasData) return;
  await disks.lock.run(async () => {
    await disks.copy(disks.snapshotDir(region, snap.id), disks.volumeDir(region, vol.id));
    vol.hasData = true;
  });
}

/** CopySnapshot's contents, possibly from another region. */
export async function copySnapshotContents(rt: Ec2Runtime, from: { region: string; snap: SnapshotRecord }, to: { region: string; snap: SnapshotRecord }): Promise<void> {
  const { disks } = rt;
  if (disks === null || !from.snap.hasData) return;
  await disks.lock.run(async () => {
    await disks.copy(disks.snapshotDir(from.region, from.snap.id), disks.snapshotDir(to.region, to.snap.id));
    to.snap.hasData = true;
  });
}

export async function removeSnapshotContents(rt: Ec2Runtime, region: string, id: string): Promise<void> {
  const { disks } = rt;
  if (disks === null) return;
  await disks.lock.run(async () => disks.remove(disks.snapshotDir(region, id)));
}
