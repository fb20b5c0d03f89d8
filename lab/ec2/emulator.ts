// The EC2 emulator: an HTTP server on loopback speaking the EC2 Query API (form-encoded POST, XML
// answers in EC2's namespace, EC2's error documents), so @aws-sdk/client-ec2 — or any EC2 client —
// works against it over the wire. Credentials are accepted unchecked; the region comes from the
// request's SigV4 credential scope, and each region has its own state.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { redact } from '../../runner/secret.js';
import { emptyAccount, loadAccount, saveAccount, type AccountState } from './account.js';
import { ACTIONS, type ActionHandler } from './actions/index.js';
import { DEFAULT_REGIONS } from './catalog.js';
import { DEFAULT_DELAYS, type Ec2Context, type Ec2Delays, type Ec2Runtime } from './context.js';
import { DiskStore } from './disks.js';
import { Ec2Error } from './ec2-error.js';
import type { HostProvider } from './host-provider.js';
import { newRequestId } from './ids.js';
import { Jobs } from './jobs.js';
import { resume } from './resume.js';
import { operationShapes } from './wire/operations.js';
import { readQuery, type QueryValue } from './wire/query-input.js';
import { errorXml, responseXml } from './wire/xml-output.js';

export interface Ec2EmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The address to listen on; loopback by default. */
  host?: string;
  /** Where the account is kept across restarts; volume and snapshot contents go next to it. Omitted: in memory. */
  stateFile?: string;
  /** The machines behind instances (the lab's hosts); needs a stateFile. Omitted: instances are records only. */
  hosts?: HostProvider;
  delays?: Partial<Ec2Delays>;
  regions?: readonly string[];
  /** Where background failures are reported; standard error by default. */
  log?: (line: string) => void;
}

export interface Ec2Emulator {
  /** http://HOST:PORT — the SDK's `endpoint`, or AWS_ENDPOINT_URL_EC2. */
  url: string;
  port: number;
  /** The next `count` requests are refused with RequestLimitExceeded (HTTP 503), as EC2 throttles. */
  throttle(count: number): void;
  /** The live account (read it in tests; change it only through the API). */
  readonly state: AccountState;
  /** Resolves once every background state change has happened. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const MAX_BODY = 16 << 20;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Ec2Error('RequestEntityTooLarge', 'The request body is too large'));
        req.destroy();
      } else {
        chunks.push(c);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The region of SigV4's credential scope: Credential=AKID/20240101/us-east-1/ec2/aws4_request. */
export function signedRegion(authorization: string | undefined, query: URLSearchParams): string | null {
  const scope = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/[^/]+\/aws4_request/.exec(authorization ?? '');
  if (scope !== null) return scope[1];
  const presigned = /^[^/]+\/\d{8}\/([^/]+)\//.exec(query.get('X-Amz-Credential') ?? '');
  return presigned === null ? null : presigned[1];
}

function send(res: ServerResponse, status: number, body: string, requestId: string, type = 'text/xml;charset=UTF-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': requestId });
  res.end(body);
}

export async function startEc2Emulator(opts: Ec2EmulatorOptions = {}): Promise<Ec2Emulator> {
  const regions = opts.regions ?? DEFAULT_REGIONS;
  if (opts.hosts !== undefined && opts.stateFile === undefined) {
    throw new Error('an EC2 emulator backed by lab hosts needs a stateFile (its volumes and snapshots are folders next to it)');
  }
  const log = opts.log ?? ((line: string) => void process.stderr.write(redact(`ec2 emulator: ${line}`) + '\n'));
  const stateFile = opts.stateFile;
  const account = stateFile === undefined ? emptyAccount(regions) : loadAccount(stateFile, regions);
  const rt: Ec2Runtime = {
    account,
    delays: { ...DEFAULT_DELAYS, ...opts.delays },
    jobs: new Jobs((key, e) => log(`${key}: ${e.message}`)),
    disks: stateFile === undefined ? null : new DiskStore(join(dirname(stateFile), 'disks')),
    hosts: opts.hosts ?? null,
    save: stateFile === undefined ? () => undefined : () => saveAccount(stateFile, account),
    log,
  };
  resume(rt);
  let throttled = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const url = new URL(req.url ?? '/', 'http://ec2.invalid');
    try {
      const body = await readBody(req);
      if (url.pathname.startsWith('/_admin/')) return admin(req, res, url.pathname, body, requestId);
      const params = req.method === 'POST' ? new URLSearchParams(body) : url.searchParams;
      if (throttled > 0) {
        throttled--;
        throw new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503);
      }
      const action = params.get('Action');
      if (action === null || action === '') throw new Ec2Error('MissingAction', 'The request must contain the parameter Action');
      const regionName = signedRegion(req.headers.authorization, url.searchParams);
      if (regionName === null) throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials (the request is not signed with SigV4)', 401);
      const region = account.regions[regionName];
      if (region === undefined) {
        throw new Ec2Error('AuthFailure', `Credential should be scoped to a valid region, not '${regionName}'. This endpoint serves: ${Object.keys(account.regions).join(', ')}`, 401);
      }
      const shapes = operationShapes(action);
      if (shapes === null) throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
      const handler: ActionHandler | undefined = ACTIONS[action];
      if (handler === undefined) throw new Ec2Error('UnsupportedOperation', `The rplay EC2 emulator does not implement ${action}.`);
      const input = readQuery(shapes.input, params);
      if (input.DryRun === true) throw new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
      let changed = false;
      const ctx: Ec2Context = { runtime: rt, regionName, region, now: () => new Date(), changed: () => void (changed = true) };
      // The wire layer built `input` from the action's own input shape: it is that action's request type.
      const output = await (handler as (ctx: Ec2Context, input: Record<string, QueryValue>) => object | Promise<object>)(ctx, input);
      if (changed) rt.save();
      send(res, 200, responseXml(action, shapes.output, output, requestId), requestId);
    } catch (e) {
      if (e instanceof Ec2Error) {
        send(res, e.status, errorXml(e.code, e.message, requestId), requestId);
      } else {
        log(`${req.method} ${url.pathname}: ${(e as Error).stack ?? String(e)}`);
        send(res, 500, errorXml('InternalError', `An internal error has occurred: ${(e as Error).message}`, requestId), requestId);
      }
    }
  }

  function admin(req: IncomingMessage, res: ServerResponse, path: string, body: string, requestId: string): void {
    if (path === '/_admin/throttle' && req.method === 'POST') {
      const count = Number((JSON.parse(body || '{}') as { count?: unknown }).count ?? 1);
      if (!Number.isInteger(count) || count < 0) throw new Ec2Error('InvalidParameterValue', 'count must be a whole number');
      throttled = count;
      return send(res, 200, JSON.stringify({ throttled }), requestId, 'application/json');
    }
    if (path === '/_admin/health') return send(res, 200, JSON.stringify({ ok: true, regions: Object.keys(account.regions) }), requestId, 'application/json');
    send(res, 404, JSON.stringify({ error: `no admin endpoint ${req.method} ${path}` }), requestId, 'application/json');
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    port,
    throttle: (count) => void (throttled = count),
    state: account,
    idle: () => rt.jobs.idle(),
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await rt.jobs.close();
        rt.save();
      })();
      return closing;
    },
  };
}
