// Dependencies run one way (README "Layout"): the engine imports no module, lab, test or bench file;
// modules import neither the lab, tests, bench nor the CLI's wiring; the lab imports no test or bench.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoDir } from '../../support/rplay-cli.js';
import { importsOf, sourceTree, violations } from './imports.js';

test('the tree keeps the direction', () => {
  assert.equal(violations(sourceTree(repoDir)).map((v) => v.message), []);
});

test('the checker finds every form of import, with where it is written', () => {
  const text = [
    "import { a } from '../../modules/a.js';",
    "import type { B } from '../../modules/b.js';",
    "export { c } from '../../lab/c.js';",
    "import '../../test/d.js';",
    'const e = async () => (await import(',
    "  '../../bench/e.js')).run();",
    "const f = require('../../modules/f.js');",
    'type G = typeof import("../../modules/g.js");',
  ].join('\n');
  const files = new Map([['runner/execution/x.ts', text]]);
  assert.equal(
    violations(files).map((v) => v.message),
    [
      "runner/execution/x.ts:1:19: runner must not import modules/ ('../../modules/a.js'): hand it in from runner/cli, or move it",
      "runner/execution/x.ts:2:24: runner must not import modules/ ('../../modules/b.js'): hand it in from runner/cli, or move it",
      "runner/execution/x.ts:3:19: runner must not import lab/ ('../../lab/c.js'): hand it in from runner/cli, or move it",
      "runner/execution/x.ts:4:8: runner must not import test/ ('../../test/d.js'): hand it in from runner/cli, or move it",
      "runner/execution/x.ts:6:3: runner must not import bench/ (import('../../bench/e.js')): hand it in from runner/cli, or move it",
      "runner/execution/x.ts:7:19: runner must not import modules/ (import('../../modules/f.js')): hand it in from runner/cli, or move it",
      'runner/execution/x.ts:8:24: runner must not import modules/ (import(\'../../modules/g.js\')): hand it in from runner/cli, or move it',
    ],
  );
});

test('each area has its own rules: the CLI may wire anything; modules not the CLI; the lab not tests', () => {
  const files = new Map([
    ['runner/cli/play-command.ts', "import { r } from '../../modules/registry.js';\nimport { l } from '../../lab/lab.js';"],
    ['runner/cli.ts', "const m = await import('../modules/registry.js');"],
    ['modules/x.ts', "import { p } from '../runner/cli/play-command.js';\nimport { q } from '../runner/cli.js';\nimport { t } from '../runner/types.js';\nimport { l } from '../lab/lab.js';"],
    ['lab/x.ts', "import { m } from '../modules/service.js';\nimport { s } from '../test/support/converge.js';\nimport { b } from '../bench/bench.js';"],
    ['test/x.ts', "import { l } from '../lab/lab.js';\nimport { b } from '../bench/bench.js';"],
    ['bench/x.ts', "import { t } from '../test/support/converge.js';"],
  ]);
  assert.equal(
    violations(files).map((v) => `${v.file} → ${v.target}`),
    ['modules/x.ts → runner/cli/play-command.ts', 'modules/x.ts → runner/cli.ts', 'modules/x.ts → lab/lab.ts', 'lab/x.ts → test/support/converge.ts', 'lab/x.ts → bench/bench.ts'],
  );
});

test('the checker is not fooled: imports named in comments, strings, templates and regular expressions are none; one of a computed name is refused', () => {
  const text = [
    "// import { a } from '../modules/a.js';",
    "/* import('../modules/b.js') */",
    "const s = \"import x from '../modules/c.js'\";",
    "const t = `${1 + 2} import('../modules/d.js') ${'}'}`;",
    "const r = /from '..\\/modules\\/e.js'/;",
    'const half = 4 / 2; const q = "\'"; // a lone quote',
    "const z = obj.import('../modules/h.js');",
    "if (import.meta.url) void 0;",
    "import { real } from '../modules/real.js';",
    'const name = "x"; const m = await import(name);',
  ].join('\n');
  const found = violations(new Map([['runner/y.ts', text]]));
  assert.equal(found.map((v) => v.message), [
    "runner/y.ts:9:22: runner must not import modules/ ('../modules/real.js'): hand it in from runner/cli, or move it",
    'runner/y.ts:10:35: import() of a computed name, whose target cannot be checked: import a literal path',
  ]);
});

test('a file the scanner would misread is refused, not passed', () => {
  assert.throws(() => importsOf('const x = { a: `${ {', 'runner/bad.ts'), /cannot scan runner\/bad\.ts: braces do not balance/);
});

test.run();
