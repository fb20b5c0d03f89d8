// Waiting for EC2's asynchronous states (pending → running…) and for a new machine's sshd. Polls back
// off from a quick first look (the lab's emulator takes a fraction of a second) to a few seconds
// (AWS takes tens of seconds, and polling it fast only earns throttling).
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsError } from './errors.js';

export interface PollOptions {
  timeoutMs: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Calls `check` until it returns a value (not null); fails after timeoutMs with `what` and the last
 * state `check` reported through `state`.
 */
export async function poll<T>(what: string, check: (state: { last: string }) => Promise<T | null>, opts: PollOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = opts.firstDelayMs ?? 100;
  const state = { last: 'unknown' };
  for (;;) {
    const got = await check(state);
    if (got !== null) return got;
    if (Date.now() + delay > deadline) {
      throw new AwsError(`timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting for ${what} (last seen: ${state.last})`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, opts.maxDelayMs ?? 5000);
  }
}

/** Resolves with the server's SSH banner line when a TCP connection to address:port gets one. */
function sshBanner(address: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    let data = '';
    const done = (v: string | null): void => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.on('data', (b: Buffer) => {
      data += b.toString('latin1');
      const line = data.split(/\r?\n/)[0];
      if (data.includes('\n')) done(line.startsWith('SSH-') ? line : null);
    });
    socket.on('error', () => done(null));
    socket.on('end', () => done(null));
  });
}

/** Waits until sshd answers on address:port (a booting machine refuses or drops connections first). */
export async function waitForSsh(address: string, port: number, timeoutMs: number): Promise<string> {
  return poll(
    `SSH on ${address}:${port}`,
    async (state) => {
      const banner = await sshBanner(address, port, 5000);
      state.last = banner === null ? 'no SSH banner' : banner;
      return banner;
    },
    { timeoutMs, firstDelayMs: 200, maxDelayMs: 3000 },
  );
}
