// The aws_ec2 inventory's optional cache: the instances it read, in a file under the project's
// .rplay/cache, reused for cache_timeout seconds. ec2_instance empties it when it launches or starts
// an instance, so `meta: refresh_inventory` after it sees the new addresses.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const PREFIX = 'aws_ec2-';

export function projectCacheDir(projectDir: string): string {
  return join(projectDir, '.rplay', 'cache');
}

/** The project an inventory file belongs to: the nearest folder above it with playbooks/, .rplay/ or package.json. */
export function projectDirOf(inventoryFile: string): string {
  const start = dirname(inventoryFile);
  for (let dir = start; ; dir = dirname(dir)) {
    if (['playbooks', '.rplay', 'package.json'].some((m) => existsSync(join(dir, m)))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

/** The cache file for one query (regions, filters, endpoint…): a change of query is a different file. */
export function cacheFile(dir: string, query: unknown): string {
  return join(dir, `${PREFIX}${createHash('sha256').update(JSON.stringify(query)).digest('hex').slice(0, 16)}.json`);
}

interface CacheDocument<T> {
  savedAt: number;
  data: T;
}

/** The cached data when younger than timeoutSeconds, else null. */
export async function readCache<T>(file: string, timeoutSeconds: number, now = Date.now()): Promise<T | null> {
  let doc: CacheDocument<T>;
  try {
    doc = JSON.parse(await readFile(file, 'utf8')) as CacheDocument<T>;
  } catch {
    return null;
  }
  return typeof doc.savedAt === 'number' && now - doc.savedAt < timeoutSeconds * 1000 ? doc.data : null;
}

export async function writeCache(file: string, data: unknown, now = Date.now()): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ savedAt: now, data }));
  await rename(tmp, file);
}

/** Forgets every cached aws_ec2 inventory of the project (instances changed). */
export async function invalidateInventoryCache(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.startsWith(PREFIX)).map((n) => rm(join(dir, n), { force: true })));
}
