// A fresh RDB on disk: BGSAVE, then wait until Redis says it finished (INFO persistence:
// rdb_bgsave_in_progress:0, rdb_saves counted one more, LASTSAVE not gone back) and
// that it went well (rdb_last_bgsave_status:ok). A save already running is waited out first, so the
// file fetched afterwards holds everything written before this call.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { parseClusterInfo as parseInfo } from './cluster-state.js';

export class BgsaveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BgsaveError';
  }
}

async function persistence(client: Redis): Promise<Record<string, string>> {
  return parseInfo(String(await client.call('INFO', 'persistence')));
}

/** Polls INFO persistence until `done`; fails after the deadline naming `what`. */
async function until(client: Redis, what: string, deadline: number, done: (p: Record<string, string>) => boolean): Promise<Record<string, string>> {
  let delay = 50;
  for (;;) {
    const p = await persistence(client);
    if (done(p)) return p;
    if (Date.now() + delay > deadline) throw new BgsaveError(`timed out waiting for ${what} (rdb_bgsave_in_progress:${p.rdb_bgsave_in_progress ?? '?'})`);
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
  }
}

/** Saves the dataset to the RDB file; resolves with LASTSAVE (seconds) once it is on disk. */
export async function bgsave(client: Redis, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const before = await until(client, 'an earlier background save to finish', deadline, (p) => p.rdb_bgsave_in_progress === '0');
    const saves = Number(before.rdb_saves ?? NaN);
    // The server's clock, not the controller's: LASTSAVE must not go back.
    const lastBefore = Number(before.rdb_last_save_time ?? 0);
    try {
      // SCHEDULE: when an AOF rewrite is running, the save starts right after it instead of failing.
      await client.call('BGSAVE', 'SCHEDULE');
    } catch (e) {
      // Someone else's save started in between: wait for it, then ask again.
      if (/already in progress/i.test((e as Error).message)) continue;
      throw new BgsaveError(`BGSAVE refused: ${(e as Error).message}`);
    }
    const after = await until(
      client,
      'BGSAVE to finish',
      deadline,
      (p) => p.rdb_bgsave_in_progress === '0' && (Number.isNaN(saves) || Number(p.rdb_saves) > saves) && Number(p.rdb_last_save_time) >= lastBefore,
    );
    if (after.rdb_last_bgsave_status !== 'ok') throw new BgsaveError(`BGSAVE failed (rdb_last_bgsave_status:${after.rdb_last_bgsave_status ?? '?'}): see the Redis log`);
    return Number(after.rdb_last_save_time);
  }
}
