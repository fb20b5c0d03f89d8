// What Redis makes of a users.acl. ACL LIST prints each user in Redis's own canonical form, which is
// not the file's text (Redis 7.0 adds `resetchannels -@all`, drops commands a category already
// grants, reorders commands), so live drift cannot be found by comparing ACL LIST with the file.
// The only faithful normaliser is the very redis-server the node runs: the file is loaded into a
// throw-away server (unix socket in a private temp dir, no TCP, no persistence, ~20 ms) and its
// ACL LIST is the canonical form (up to token order, see normaliseAclLine). It also validates the
// file before it is written: a rule Redis rejects is reported with Redis's own message, and the
// live file is never touched.

/** A user the throw-away server lets in, so it can be asked for ACL LIST; filtered from the output. */
export const PROBE_USER = 'rplay-acl-probe';

const PROBE_LINE = `user ${PROBE_USER} on nopass +acl|list\n`;

/** $1: the file's content, base64. Prints `canonical ok` + ACL LIST lines, `canonical failed` + why, or `canonical unavailable`. */
export const CANONICAL_SCRIPT = `command -v redis-server > /dev/null 2>&1 && command -v redis-cli > /dev/null 2>&1 || { echo 'canonical unavailable'; exit 0; }
d=$(mktemp -d) || exit 1
pid=
trap '[ -z "$pid" ] || kill "$pid" 2> /dev/null; rm -rf "$d"' EXIT
printf '%s' "$1" | base64 -d > "$d/users.acl" || exit 1
redis-server --port 0 --unixsocket "$d/s" --unixsocketperm 700 --aclfile "$d/users.acl" --save '' --appendonly no --dir "$d" --logfile "$d/log" > /dev/null 2>&1 &
pid=$!
# The socket file appears at bind(), a moment before Redis accepts on it: retry until it answers.
i=0
until out=$(redis-cli -s "$d/s" --user ${PROBE_USER} --pass probe --no-auth-warning ACL LIST 2> /dev/null); do
  if ! kill -0 "$pid" 2> /dev/null; then pid=; echo 'canonical failed'; grep -i 'error' "$d/log" | tail -n 3; exit 0; fi
  i=$((i + 1))
  if [ $i -gt 1000 ]; then echo 'canonical failed'; echo 'redis-server did not start within 5 s'; exit 0; fi
  sleep 0.005
done
echo 'canonical ok'
printf '%s\n' "$out"`;

export function canonicalInput(fileContent: string): string {
  return Buffer.from(fileContent + PROBE_LINE, 'utf8').toString('base64');
}

export type Canonical =
  | { kind: 'ok'; users: Map<string, string> }
  /** Redis refused the file; `reason` is its message with the temp path replaced by `path`. */
  | { kind: 'rejected'; reason: string }
  /** No redis-server on the node (nothing to compare with, nothing running). */
  | { kind: 'unavailable' };

/**
 * One ACL LIST line in an order-free form. Redis prints a user's command rules in the order of its
 * command table's hash iteration, which differs between processes (two servers loading the same
 * file print `+get +set` and `+set +get`). What Redis prints is flags, hashes, patterns, then
 * categories and single commands, each token independent of the others' order, so the sorted
 * tokens (a selector `(…)` being one token, itself sorted) say the same as the line.
 */
export function normaliseAclLine(line: string): string {
  const tokens = line.trim().match(/\([^)]*\)|\S+/g) ?? [];
  const sorted = (ts: string[]): string[] => [...ts].sort();
  const norm = tokens.map((t) => (t.startsWith('(') ? `(${sorted(t.slice(1, -1).split(/\s+/).filter(Boolean)).join(' ')})` : t));
  return [...norm.slice(0, 2), ...sorted(norm.slice(2))].join(' ');
}

/** ACL LIST lines ("user NAME …") by user name, normalised. */
export function aclListByUser(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of lines) {
    const m = /^user (\S+)/.exec(l);
    if (m && m[1] !== PROBE_USER) out.set(m[1] as string, normaliseAclLine(l));
  }
  return out;
}

export function parseCanonical(stdout: string, path: string): Canonical {
  const [head, ...rest] = stdout.split('\n');
  if (head === 'canonical unavailable') return { kind: 'unavailable' };
  if (head === 'canonical ok') return { kind: 'ok', users: aclListByUser(rest) };
  const why = rest.join('\n').trim();
  const reason =
    why
      .split('\n')
      .map((l) => l.replace(/^.*?(Aborting Redis startup because of ACL errors: )?(\S*\/users\.acl)(?=:\d+:)/, path))
      .map((l) => l.replace(/\. WARNING: ACL errors detected.*$/, ''))
      .join('\n') || 'redis-server refused it';
  return { kind: 'rejected', reason };
}

export interface AclDrift {
  user: string;
  kind: 'differs' | 'missing' | 'extra';
}

/** Users whose live form differs from the wanted one, in name order. */
export function aclDrift(wanted: ReadonlyMap<string, string>, live: ReadonlyMap<string, string>): AclDrift[] {
  const names = [...new Set([...wanted.keys(), ...live.keys()])].sort();
  const out: AclDrift[] = [];
  for (const user of names) {
    const w = wanted.get(user);
    const l = live.get(user);
    if (w === l) continue;
    out.push({ user, kind: w === undefined ? 'extra' : l === undefined ? 'missing' : 'differs' });
  }
  return out;
}

export function describeDrift(d: AclDrift, port: number): string {
  if (d.kind === 'extra') return `user ${d.user} exists live on :${port} but not in the file`;
  if (d.kind === 'missing') return `user ${d.user} is missing live on :${port}`;
  return `user ${d.user} differs live on :${port}`;
}
