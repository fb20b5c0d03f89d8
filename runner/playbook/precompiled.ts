// What `npm run build` compiled ahead of time. This file compiles to "nothing": modules/precompile.ts
// then overwrites its output in dist/ with the real table. Any later `tsc` run writes this stub back,
// so validators built from older sources are never used (they are compiled at start-up instead).

export interface Precompiled {
  /** Validator name (`keywords.task`, `module.apt`) → file under dist/runner/playbook/validators/. */
  validators: Record<string, string>;
  /** Per module, what the loader needs of it without importing it. */
  modules: Record<string, { freeForm?: string; checksAtLoad: boolean }>;
}

export const precompiled: Precompiled | undefined = undefined;
