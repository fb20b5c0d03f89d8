// `npm run build`'s step after tsc: every module's args schema and every playbook keyword schema
// compiled to ajv standalone code (CommonJS, loaded synchronously) under
// dist/runner/playbook/validators/, and dist/runner/playbook/precompiled.js overwritten with their
// table and what the loader needs of each module (free-form key, checkAtLoad). Start-up then
// compiles nothing and imports only the modules a playbook names. A later tsc restores the stub.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnySchema } from 'ajv';
import { AJV_OPTIONS } from '../runner/playbook/ajv.js';
import { blockKeywords, importKeywords, playKeywords, taskKeywords } from '../runner/playbook/keywords.js';
import type { Precompiled } from '../runner/playbook/precompiled.js';
import { registry } from './registry.js';

const require = createRequire(import.meta.url);
const { Ajv } = require('ajv') as typeof import('ajv');
const standaloneCode = (require('ajv/dist/standalone') as { default: (ajv: import('ajv').Ajv, v: import('ajv').ValidateFunction) => string }).default;

const playbookDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'runner', 'playbook');
const outDir = join(playbookDir, 'validators');

async function main(): Promise<void> {
  const schemas: [string, AnySchema][] = [
    ['keywords.play', playKeywords],
    ['keywords.task', taskKeywords],
    ['keywords.block', blockKeywords],
    ['keywords.import', importKeywords],
  ];
  const table: Precompiled = { validators: {}, modules: {} };
  for (const name of [...registry.names].sort()) {
    const mod = await registry.load(name);
    schemas.push([`module.${name}`, mod.schema]);
    table.modules[name] = { ...(mod.freeForm ? { freeForm: mod.freeForm } : {}), checksAtLoad: mod.checkAtLoad !== undefined };
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const [name, schema] of schemas) {
    // One ajv per schema: standalone code of an instance holding other schemas would carry them too.
    const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
    const file = `${name}.cjs`;
    writeFileSync(join(outDir, file), standaloneCode(ajv, ajv.compile(schema)));
    table.validators[name] = file;
  }
  writeFileSync(join(playbookDir, 'precompiled.js'), `// Written by modules/precompile.ts (npm run build); tsc writes the stub back.\nexport const precompiled = ${JSON.stringify(table, null, 1)};\n`);
  console.log(`precompiled ${schemas.length} validators into ${outDir}`);
}

await main();
