// `npm run bench`: medians of 5 runs of real rplay processes against the lab, wall time including
// Node's start-up, and rplay's peak RSS (VmHWM sampled from /proc while it runs).
// `npm run bench -- m n` runs only the figures named (letters as printed). RPLAY_BENCH_CLI=path/to/cli.js
// measures another build (e.g. the main branch's dist) with the same cases.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC2 } from '@aws-sdk/client-ec2';
import { startEc2Emulator } from '../lab/ec2/emulator.js';
import { labHostProvider } from '../lab/ec2/host-provider.js';
import { labDown, labUp } from '../lab/lab.js';
import { copyLabAwsInventory } from '../test/support/lab-aws.js';
import { repoDir } from '../test/support/rplay-cli.js';

interface Sample {
  seconds: number;
  rssMb: number;
  code: number;
  stdout: string;
}

const cli = process.env.RPLAY_BENCH_CLI ?? join(repoDir, 'dist', 'runner', 'cli.js');
// Node 20 is supported by this SDK release; its notice about later releases is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

function runRplay(args: string[], env: Record<string, string> = {}): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [cli, ...args], { cwd: repoDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let peakKb = 0;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', () => {});
    const sample = (): void => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        /* exited */
      }
    };
    const timer = setInterval(sample, 5);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ seconds: Number(process.hrtime.bigint() - start) / 1e9, rssMb: peakKb / 1024, code: code ?? -1, stdout });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function report(label: string, samples: Sample[], target: string): void {
  const bad = samples.find((s) => s.code !== 0);
  if (bad) throw new Error(`${label}: rplay exited ${bad.code}\n${bad.stdout.slice(-2000)}`);
  const changed = samples.map((s) => /changed=(\d+)/g.exec(s.stdout)?.[1]);
  console.log(
    `${label.padEnd(48)} median ${median(samples.map((s) => s.seconds)).toFixed(2)} s  ` +
      `(runs: ${samples.map((s) => s.seconds.toFixed(2)).join(', ')})  peak RSS ${median(samples.map((s) => s.rssMb)).toFixed(0)} MB  target ${target}` +
      (changed.some((c) => c !== '0') && label.includes('re-run') ? '  [NOT CONVERGED]' : ''),
  );
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

async function main(): Promise<void> {
  console.log(`rplay bench — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  // `npm run bench -- b g` runs only those figures.
  const only = new Set(process.argv.slice(2));
  const wanted = (...keys: string[]): boolean => only.size === 0 || keys.some((k) => only.has(k));
  const state = (dir: string): Record<string, string> => ({ RPLAY_STATE_DIR: join(dir, 'state') });

  if (wanted('a')) await withLab(3, '127.0.20', async (inv, dir) => {
    const args = ['playbooks/demo.yml', '-i', inv];
    const first = await runRplay(args, state(dir));
    if (first.code !== 0) throw new Error(`demo did not converge:\n${first.stdout}`);
    report('(a) demo re-run, 3 hosts, converged', await times(5, () => runRplay(args, state(dir))), '≤ 0.8 s');
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
    report('(e) redis.yml re-run, 3 hosts, converged', await times(5, () => runRplay(deploy(inv), state(dir))), '≤ 1 s');
    report('(f) redis.yml --check, converged', await times(5, () => runRplay(deploy(inv, '--check'), state(dir))), '≤ 1 s');
  });

  if (wanted('g')) await withLab(3, '127.0.20', async (_inv, dir) => {
    const emu = await startEc2Emulator({ stateFile: join(dir, 'ec2', 'state.json'), hosts: labHostProvider(dir), log: () => {} });
    try {
      const inv = copyLabAwsInventory(dir, emu.url, dir);
      const env = { ...state(dir), AWS_ACCESS_KEY_ID: 'lab', AWS_SECRET_ACCESS_KEY: 'lab' };
      const first = await runRplay(['playbooks/deploy.yml', '-i', inv], env);
      if (first.code !== 0) throw new Error(`deploy.yml on lab-aws did not converge:\n${first.stdout.slice(-3000)}`);
      report('(g) deploy.yml incl. AWS phases, re-run, converged', await times(5, () => runRplay(['playbooks/deploy.yml', '-i', inv], env)), '≤ 1.5 s');
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
    ).then((samples) => report(label, samples, 'peak RSS ≤ 150 MB'));
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
    report('(b) 10 tasks re-run, 100 hosts, converged', await times(5, () => runRplay(ten(inv), state(dir))), '≤ 3 s');
  });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
