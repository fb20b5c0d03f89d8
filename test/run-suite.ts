// `npm test`: every compiled *.test.js in a Node process of its own, one after another, each with a
// time limit. A test that hangs (a client waiting for a cluster that never formed) then fails its
// own file after the limit and the suite goes on; run in one uvu process it held the whole run
// until CI's limit and nothing after it, not even the failure's details, was ever printed.
// Ends with uvu's summary lines (Total / Passed / Skipped) over all files, which .ci/run reads.
//   node dist/test/run-suite.js [path-regex]     RPLAY_TEST_FILE_TIMEOUT=seconds (default 600)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const testDir = fileURLToPath(new URL('.', import.meta.url));
const limitSeconds = Number(process.env.RPLAY_TEST_FILE_TIMEOUT ?? 600);
const filter = process.argv[2] === undefined ? undefined : new RegExp(process.argv[2]);

interface FileResult {
  file: string;
  total: number;
  passed: number;
  skipped: number;
  /** Why the file failed beyond its counted tests: a crash before any summary, a time-out. */
  problem?: string;
  ms: number;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.js') ? [join(dir, e.name)] : []));
}

const count = (text: string, label: string): number | undefined => {
  const m = [...text.matchAll(new RegExp(`^ *${label}: *(\\d+)`, 'gm'))].pop();
  return m === undefined ? undefined : Number(m[1]);
};

function runFile(file: string): Promise<FileResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    // Its own process group, so a time-out ends the test and whatever it started in the foreground.
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '1' } });
    let out = '';
    const take = (chunk: Buffer, to: NodeJS.WriteStream): void => {
      out += chunk.toString('utf8');
      to.write(chunk);
    };
    child.stdout.on('data', (c: Buffer) => take(c, process.stdout));
    child.stderr.on('data', (c: Buffer) => take(c, process.stderr));
    let timedOut = false;
    const signal = (name: NodeJS.Signals): void => {
      try {
        process.kill(-child.pid!, name);
      } catch {
        // already gone
      }
    };
    // SIGTERM first: the lab fixture's exit handler then powers off the hosts the test started.
    const timer = setTimeout(() => {
      timedOut = true;
      signal('SIGTERM');
      setTimeout(() => signal('SIGKILL'), 10_000).unref();
    }, limitSeconds * 1000);
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const total = count(plain, 'Total') ?? 0;
      const passed = count(plain, 'Passed') ?? 0;
      const skipped = count(plain, 'Skipped') ?? 0;
      const failedCounted = total - passed - skipped;
      const problem = timedOut
        ? `did not finish within ${limitSeconds} s (RPLAY_TEST_FILE_TIMEOUT), so it was ended`
        : code !== 0 && failedCounted === 0
          ? `exited with ${sig ?? `code ${code}`} and no failed test counted`
          : undefined;
      resolve({ file, total, passed, skipped, problem, ms: performance.now() - started });
    });
  });
}

const files = testFiles(testDir).filter((f) => filter === undefined || filter.test(relative(testDir, f)));
if (files.length === 0) {
  console.error(`no test file matches ${filter}`);
  process.exit(1);
}
const results: FileResult[] = [];
const started = performance.now();
for (const file of files) {
  process.stdout.write(`\n${relative(testDir, file)}\n`);
  results.push(await runFile(file));
}

const failing = results.filter((r) => r.problem !== undefined || r.total - r.passed - r.skipped > 0);
process.stdout.write('\n');
for (const r of failing) {
  const failed = r.total - r.passed - r.skipped;
  console.log(`FAILED ${relative(testDir, r.file)}: ${[failed > 0 ? `${failed} of ${r.total} tests failed` : '', r.problem ?? ''].filter(Boolean).join('; ')}`);
}
// A file that failed without a counted failure (a hang, a crash) counts as one failed test.
const extra = results.filter((r) => r.problem !== undefined && r.total - r.passed - r.skipped === 0).length;
const sum = (k: 'total' | 'passed' | 'skipped'): number => results.reduce((n, r) => n + r[k], 0);
console.log(`\n  Total:     ${sum('total') + extra}\n  Passed:    ${sum('passed')}\n  Skipped:   ${sum('skipped')}\n  Duration:  ${(performance.now() - started).toFixed(2)}ms`);
const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 5);
console.log(`  Slowest:   ${slowest.map((r) => `${relative(testDir, r.file)} ${(r.ms / 1000).toFixed(0)} s`).join(', ')}`);
process.exit(failing.length > 0 ? 1 : 0);
