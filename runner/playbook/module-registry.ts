// The modules a playbook may name, as the loader and the engine get them (the engine imports no
// module itself): every name, for telling a module from a keyword and for did-you-mean; a module's
// signature (free-form key, args validator), which loading a playbook checks every task against
// without importing the module; and the module itself, imported only when a run uses it.
import type { ValidateFunction } from 'ajv';
import type { Module } from '../types.js';
import { compile, precompiledValidator } from './ajv.js';
import { precompiled } from './precompiled.js';
import { isBlock, type Play, type TaskNode } from './types.js';

export interface ModuleSignature {
  readonly name: string;
  /** The arg a free-form string fills (`shell: echo hi` → { cmd: 'echo hi' }). */
  readonly freeForm?: string;
  readonly validate: ValidateFunction;
  /** The module checks its args further before the run (Module.checkAtLoad). */
  readonly checksAtLoad: boolean;
}

export interface ModuleRegistry {
  readonly names: ReadonlySet<string>;
  /** Rejects for a name not in `names`. */
  signature(name: string): Promise<ModuleSignature>;
  load(name: string): Promise<Module>;
}

// A loaded module's validator, so validating its args again at run time compiles nothing either.
const validators = new WeakMap<Module, ValidateFunction>();

/** `mod`'s args validator: the one its registry gave it, else compiled once. */
export function validatorOf(mod: Module): ValidateFunction {
  let v = validators.get(mod);
  if (!v) validators.set(mod, (v = compile(mod.schema)));
  return v;
}

export function signatureOf(mod: Module): ModuleSignature {
  return { name: mod.name, freeForm: mod.freeForm, validate: validatorOf(mod), checksAtLoad: mod.checkAtLoad !== undefined };
}

function unknownModule(name: string): Error {
  return new Error(`bug: no module '${name}' in the registry`);
}

/** A registry of modules already imported (tests' own modules). */
export function registryOf(modules: Iterable<Module>): ModuleRegistry {
  const byName = new Map([...modules].map((m) => [m.name, m]));
  const get = (name: string): Module => {
    const m = byName.get(name);
    if (!m) throw unknownModule(name);
    return m;
  };
  return {
    names: new Set(byName.keys()),
    signature: async (name) => signatureOf(get(name)),
    load: async (name) => get(name),
  };
}

/**
 * A registry importing each module on first use. With the validators `npm run build` compiled, a
 * signature imports nothing but its validator; without them it imports the module and compiles.
 */
export function lazyRegistry(loaders: Readonly<Record<string, () => Promise<Module>>>): ModuleRegistry {
  const loading = new Map<string, Promise<Module>>();
  const load = (name: string): Promise<Module> => {
    const loader = Object.hasOwn(loaders, name) ? loaders[name] : undefined;
    if (!loader) return Promise.reject(unknownModule(name));
    let p = loading.get(name);
    if (!p) {
      p = loader().then((mod) => {
        if (mod.name !== name) throw new Error(`bug: the registry's '${name}' loads module '${mod.name}'`);
        const validate = precompiledValidator(`module.${name}`);
        if (validate && !validators.has(mod)) validators.set(mod, validate);
        return mod;
      });
      loading.set(name, p);
    }
    return p;
  };
  return {
    names: new Set(Object.keys(loaders)),
    async signature(name) {
      const known = precompiled?.modules[name];
      const validate = precompiledValidator(`module.${name}`);
      if (known && validate) return { name, freeForm: known.freeForm, validate, checksAtLoad: known.checksAtLoad };
      return signatureOf(await load(name));
    },
    load,
  };
}

/** Every module the plays' tasks and handlers name, in first-use order. */
export function modulesUsed(plays: readonly Play[]): string[] {
  const names = new Set<string>();
  const walk = (nodes: readonly TaskNode[]): void => {
    for (const n of nodes) {
      if (isBlock(n)) {
        walk(n.block);
        walk(n.rescue);
        walk(n.always);
      } else if (n.module !== 'meta') names.add(n.module);
    }
  };
  for (const p of plays) {
    walk(p.tasks);
    walk(p.handlers);
  }
  return [...names];
}

/**
 * The named modules, imported, for the run; `checkersOnly`: only those with a Module.checkAtLoad,
 * all that checking before a run needs (the others' signatures were enough to load the playbook).
 */
export async function loadModules(registry: ModuleRegistry, names: Iterable<string>, o: { checkersOnly: boolean }): Promise<ReadonlyMap<string, Module>> {
  let wanted = [...names];
  if (o.checkersOnly) wanted = (await Promise.all(wanted.map(async (n) => ((await registry.signature(n)).checksAtLoad ? [n] : [])))).flat();
  return new Map(await Promise.all(wanted.map(async (n) => [n, await registry.load(n)] as const)));
}
