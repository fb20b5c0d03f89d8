// `npm run bench`: medians of 5 runs of real rplay processes against the lab, wall time including
// Node's start-up, and rplay's peak RSS (VmHWM sampled from /proc while it runs).
// `npm run bench -- m n` runs only the figures named (letters as printed); RPLAY_BENCH_BASE (below)
// measures another build beside this one.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC2 } from '@aws-sdk/client-ec2';
import { startEc2Emulator } from '../lab/ec2/emulator.js';
import { labHostProvider } from '../lab/ec2/host-provider.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { labLayout } from '../lab/lab-layout.js';
import { copyLabAwsInventory } from '../test/support/lab-aws.js';
import { repoDir } from '../test/support/rplay-cli.js';

interface Sample {
  seconds: number;
  rssMb: number;
  /** User + system CPU seconds of the process (sampled from /proc while it runs). */
  cpuSeconds: number;
  code: number;
  stdout: string;
}

const cli = join(repoDir, 'dist', 'runner', 'cli.js');
// RPLAY_BENCH_BASE=/other/checkout/dist/runner/cli.js: every rplay figure is measured for that
// build too, its runs interleaved with this one's (same lab, same load), and printed beside.
const baseCli = process.env.RPLAY_BENCH_BASE;
let cliInUse = cli;
/** The base build's samples of the figure being measured. */
let baseSamples: Sample[] | undefined;

/** A figure's median seconds, and the base build's when it was measured too. */
interface Figure {
  median: number;
  base?: number;
}
const floorScript = join(repoDir, 'dist', 'bench', 'floor.js');
// Linux's USER_HZ, the unit of /proc/PID/stat's CPU times.
const CLOCK_TICKS = 100;
// Node 20 is supported by this SDK release; its notice about later releases is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

function runRplay(args: string[], env: Record<string, string> = {}): Promise<Sample> {
  return runNode([cliInUse, ...args], env);
}

function runNode(args: string[], env: Record<string, string> = {}): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: repoDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let peakKb = 0;
    let ticks = 0;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', () => {});
    const sample = (): void => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
        // utime and stime, the 14th and 15th fields, after the parenthesised command name.
        const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        ticks = Number(f[11]) + Number(f[12]);
      } catch {
        /* exited */
      }
    };
    const timer = setInterval(sample, 5);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ seconds: Number(process.hrtime.bigint() - start) / 1e9, rssMb: peakKb / 1024, cpuSeconds: ticks / CLOCK_TICKS, code: code ?? -1, stdout });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Prints a figure (and the base build's, when measured). */
function report(label: string, samples: Sample[], target: string): Figure {
  const bad = samples.find((s) => s.code !== 0);
  if (bad) throw new Error(`${label}: rplay exited ${bad.code}\n${bad.stdout.slice(-2000)}`);
  const changed = samples.map((s) => /changed=(\d+)/g.exec(s.stdout)?.[1]);
  console.log(
    `${label.padEnd(48)} median ${median(samples.map((s) => s.seconds)).toFixed(2)} s  ` +
      `(runs: ${samples.map((s) => s.seconds.toFixed(2)).join(', ')})  peak RSS ${median(samples.map((s) => s.rssMb)).toFixed(0)} MB  target ${target}` +
      (changed.some((c) => c !== '0') && label.includes('re-run') ? '  [NOT CONVERGED]' : ''),
  );
  const figure: Figure = { median: median(samples.map((s) => s.seconds)) };
  if (baseSamples) {
    figure.base = median(baseSamples.map((s) => s.seconds));
    console.log(`    base build: median ${figure.base.toFixed(2)} s (runs: ${baseSamples.map((s) => s.seconds.toFixed(2)).join(', ')})  peak RSS ${median(baseSamples.map((s) => s.rssMb)).toFixed(0)} MB  CPU ${median(baseSamples.map((s) => s.cpuSeconds)).toFixed(2)} s`);
    baseSamples = undefined;
  }
  return figure;
}

/** A figure's ratio to what the issue measures it against, beside the target ratio. */
function ratio(figure: Figure, against: string, base: Figure | undefined, target: number): void {
  if (base === undefined) {
    console.log(`    (no ratio to ${against}: run that figure in the same bench)`);
    return;
  }
  const r = figure.median / base.median;
  const was = figure.base === undefined ? '' : `; base build ${(figure.base / (base.base ?? base.median)).toFixed(2)}×`;
  console.log(`    ${r.toFixed(2)}× ${against} (${base.median.toFixed(2)} s), target ≤ ${target}×${r > target ? '  [OVER]' : ''}${was}`);
}

/** `node -e 0`: the cost of starting Node at all, the floor of loading a playbook. */
async function nodeFloor(): Promise<Figure> {
  const samples = await times(5, () => runNode(['-e', '0']));
  return report('node -e 0', samples, 'the floor of start-up');
}

/** The ssh floor of a lab: each host's persistent connection running `k` commands in a row (bench/floor.ts). */
async function sshFloor(dir: string, k: number): Promise<Figure> {
  const addresses = labStatus(dir).map((h) => h.address);
  const samples = await times(5, () => runNode([floorScript, labLayout(dir).keyFile, String(k), ...addresses]));
  return report(`  floor: ${addresses.length} hosts × ${k} sequential commands`, samples, 'the floor');
}

/** The most tasks any host ran (not skipped) in a run of `args`: the floor's command count. */
async function tasksPerHost(args: string[], env: Record<string, string>): Promise<number> {
  const r = await runRplay([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`${args.join(' ')} --json exited ${r.code}`);
  const { plays } = JSON.parse(r.stdout) as { plays: { tasks: { results: Record<string, { status: string }> }[] }[] };
  const ran = new Map<string, number>();
  for (const t of plays.flatMap((p) => p.tasks)) {
    for (const [host, res] of Object.entries(t.results)) if (host !== 'localhost' && res.status !== 'skipped') ran.set(host, (ran.get(host) ?? 0) + 1);
  }
  if (ran.size === 0) throw new Error('no host ran a task');
  return Math.max(...ran.values());
}

async function withLab<T>(hosts: number, prefix: string, fn: (inventory: string, dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'rplay-bench-'));
  try {
    await labUp(dir, { hosts, prefix });
    const inventory = join(dir, 'inventory.yml');
    writeFileSync(inventory, `plugin: rplay_lab\nlab_dir: ${JSON.stringify(dir)}\n`);
    return await fn(inventory, dir);
  } finally {
    await labDown(dir, { purge: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function times(n: number, f: () => Promise<Sample>): Promise<Sample[]> {
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
}

/** `times` for an rplay figure: with RPLAY_BENCH_BASE, each run is followed by one of the base build. */
async function timesRplay(n: number, f: () => Promise<Sample>): Promise<Sample[]> {
  const out: Sample[] = [];
  const base: Sample[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await f());
    if (!baseCli) continue;
    cliInUse = baseCli;
    try {
      base.push(await f());
    } finally {
      cliInUse = cli;
    }
  }
  baseSamples = baseCli ? base : undefined;
  return out;
}

async function main(): Promise<void> {
  console.log(`rplay bench — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  // `npm run bench -- s b g` runs only those figures (s a d e f g h c b; e gives f too).
  const only = new Set(process.argv.slice(2));
  const wanted = (...keys: string[]): boolean => only.size === 0 || keys.some((k) => only.has(k));
  const state = (dir: string): Record<string, string> => ({ RPLAY_STATE_DIR: join(dir, 'state') });
  // (g) is measured against (e), when both run.
  let e: Figure | undefined;

  if (wanted('s')) {
    const node = await nodeFloor();
    const s = report('(s) redis.yml --syntax-check, no host', await timesRplay(5, () => runRplay(['playbooks/redis.yml', '--syntax-check'])), '≤ 2.5× node -e 0');
    ratio(s, 'node -e 0', node, 2.5);
  }

  if (wanted('a')) await withLab(3, '127.0.20', async (inv, dir) => {
    const args = ['playbooks/demo.yml', '-i', inv];
    const first = await runRplay(args, state(dir));
    if (first.code !== 0) throw new Error(`demo did not converge:\n${first.stdout}`);
    const a = report('(a) demo re-run, 3 hosts, converged', await timesRplay(5, () => runRplay(args, state(dir))), '≤ 0.8 s');
    ratio(a, 'its ssh floor', await sshFloor(dir, await tasksPerHost(args, state(dir))), 2);
  });

  const deploy = (inv: string, ...extra: string[]): string[] => ['playbooks/redis.yml', '-i', inv, ...extra];
  if (wanted('d')) {
    const firstDeploys: Sample[] = [];
    for (let i = 0; i < 5; i++) firstDeploys.push(await withLab(3, '127.0.20', (inv, dir) => runRplay(deploy(inv), state(dir))));
    report('(d) redis.yml, first run on 3 fresh hosts', firstDeploys, '≤ 10 s');
  }
  if (wanted('e', 'f')) await withLab(3, '127.0.20', async (inv, dir) => {
    const first = await runRplay(deploy(inv), state(dir));
    if (first.code !== 0) throw new Error(`redis.yml did not converge:\n${first.stdout.slice(-3000)}`);
    e = report('(e) redis.yml re-run, 3 hosts, converged', await timesRplay(5, () => runRplay(deploy(inv), state(dir))), '≤ 1 s');
    ratio(e, 'its ssh floor', await sshFloor(dir, await tasksPerHost(deploy(inv), state(dir))), 2);
    report('(f) redis.yml --check, converged', await times(5, () => runRplay(deploy(inv, '--check'), state(dir))), '≤ 1 s');
  });

  if (wanted('g')) await withLab(3, '127.0.20', async (_inv, dir) => {
    const emu = await startEc2Emulator({ stateFile: join(dir, 'ec2', 'state.json'), hosts: labHostProvider(dir), log: () => {} });
    try {
      const inv = copyLabAwsInventory(dir, emu.url, dir);
      const env = { ...state(dir), AWS_ACCESS_KEY_ID: 'lab', AWS_SECRET_ACCESS_KEY: 'lab' };
      const first = await runRplay(['playbooks/deploy.yml', '-i', inv], env);
      if (first.code !== 0) throw new Error(`deploy.yml on lab-aws did not converge:\n${first.stdout.slice(-3000)}`);
      const g = report('(g) deploy.yml incl. AWS phases, re-run, converged', await timesRplay(5, () => runRplay(['playbooks/deploy.yml', '-i', inv], env)), '≤ 1.5 s');
      ratio(g, '(e)', e, 1.3);
    } finally {
      await emu.close();
    }
  });
  if (wanted('h')) {
    const emu = await startEc2Emulator({ delays: { instance: 0, snapshot: 0, volume: 0 }, log: () => {} });
    const ec2 = new EC2({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
    try {
      const vpc = (await ec2.createVpc({ CidrBlock: '10.9.0.0/16' })).Vpc!.VpcId!;
      const subnet = (await ec2.createSubnet({ VpcId: vpc, CidrBlock: '10.9.1.0/24', AvailabilityZone: 'us-east-1a' })).Subnet!.SubnetId!;
      const { Images = [] } = await ec2.describeImages({ Owners: ['099720109477'] });
      await ec2.runInstances({
        ImageId: Images[0]!.ImageId,
        InstanceType: 't2.micro',
        MinCount: 100,
        MaxCount: 100,
        SubnetId: subnet,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'project', Value: 'fleet' }] }],
      });
      await emu.idle();
      const inv = join(mkdtempSync(join(tmpdir(), 'rplay-bench-inv-')), 'aws_ec2.yml');
      writeFileSync(inv, JSON.stringify({ plugin: 'aws_ec2', regions: ['us-east-1'], endpoint_url: emu.url, access_key: 'bench', secret_key: 'bench', filters: { 'tag:project': 'fleet' }, hostnames: ['instance-id'], compose: { ansible_host: 'private_ip_address' } }));
      report('(h) rplay inventory --list, 100 EC2 instances', await times(5, () => runRplay(['inventory', '-i', inv, '--list'])), '≤ 0.5 s');
    } finally {
      ec2.destroy();
      await emu.close();
    }
  }

  // A fresh 50 MB random file on fresh hosts each run: every run transfers all of it to every host.
  const big = (hosts: number, prefix: string, label: string, runs: number): Promise<void> =>
    times(runs, () =>
      withLab(hosts, prefix, (inv, dir) => {
        const src = join(dir, 'big.bin');
        writeFileSync(src, randomBytes(50 * 1024 * 1024));
        return runRplay(['bench/playbooks/copy-50mb.yml', '-i', inv, '-e', `big_src=${src}`], state(dir));
      }),
    ).then((samples) => {
      report(label, samples, 'peak RSS ≤ 150 MB');
    });
  if (wanted('m')) await big(3, '127.0.20', '(m) copy 50 MB to 3 hosts', 3);
  if (wanted('n')) await big(100, '127.0.21', '(n) copy 50 MB to 100 hosts (1 run)', 1);

  const ten = (inv: string): string[] => ['bench/playbooks/ten-tasks.yml', '-i', inv];
  if (wanted('c')) {
    const fresh: Sample[] = [];
    for (let i = 0; i < 5; i++) fresh.push(await withLab(100, '127.0.21', (inv, dir) => runRplay(ten(inv), state(dir))));
    report('(c) 10 tasks, first run on 100 fresh hosts', fresh, '≤ 6 s');
  }
  if (wanted('b')) await withLab(100, '127.0.21', async (inv, dir) => {
    const first = await runRplay(ten(inv), state(dir));
    if (first.code !== 0) throw new Error(`ten-tasks did not converge:\n${first.stdout.slice(-3000)}`);
    const samples = await timesRplay(5, () => runRplay(ten(inv), state(dir)));
    const b = report('(b) 10 tasks re-run, 100 hosts, converged', samples, '≤ 3 s');
    ratio(b, 'its ssh floor', await sshFloor(dir, await tasksPerHost(ten(inv), state(dir))), 1);
    const cpu = median(samples.map((s) => s.cpuSeconds));
    const rss = median(samples.map((s) => s.rssMb));
    console.log(`    controller CPU ${cpu.toFixed(2)} s, target ≤ 1.2 s${cpu > 1.2 ? '  [OVER]' : ''}; peak RSS ${rss.toFixed(0)} MB, target ≤ 150 MB${rss > 150 ? '  [OVER]' : ''}`);
  });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
