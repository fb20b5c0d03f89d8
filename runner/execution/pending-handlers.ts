import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Handlers notified but not yet run, kept on the controller between runs. Ansible forgets a
 * notification when the run fails before the handler ran (the config changed, the restart never
 * happened, and the next run sees no change to notify from); rplay remembers it and runs it next time.
 */
export class PendingHandlers {
  #data: Record<string, Record<string, string[]>>;

  constructor(private readonly file: string) {
    try {
      this.#data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string[]>>;
    } catch {
      this.#data = {};
    }
  }

  /** Handlers still owed to `host` by the play identified by `playKey`. */
  get(playKey: string, host: string): string[] {
    return this.#data[playKey]?.[host] ?? [];
  }

  set(playKey: string, host: string, handlers: Iterable<string>): void {
    const list = [...handlers];
    const play = (this.#data[playKey] ??= {});
    if (list.length) play[host] = list;
    else delete play[host];
    if (Object.keys(play).length === 0) delete this.#data[playKey];
    this.#save();
  }

  #save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.#data, null, 1));
    renameSync(tmp, this.file);
  }
}
