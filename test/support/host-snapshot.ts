// Every file under a lab's per-host folders with its mode, owner and content hash: what "changed
// nothing" means, checked byte for byte.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out.push(`${p} dir ${mode} ${st.uid}:${st.gid}`);
        walk(p);
      } else if (st.isSymbolicLink()) {
        out.push(`${p} link ${readlinkSync(p)}`);
      } else if (st.isFile()) {
        const h = createHash('sha256').update(readFileSync(p)).digest('hex');
        out.push(`${p} file ${mode} ${st.uid}:${st.gid} ${h}`);
      } else {
        out.push(`${p} other ${mode}`);
      }
    }
  };
  walk(root);
  return out;
}
