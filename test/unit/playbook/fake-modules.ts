// A small module registry for playbook tests, independent of the real modules' evolving schemas.
import { Type, type TSchema } from '@sinclair/typebox';
import { registryOf } from '../../../runner/playbook/module-registry.js';
import { defineModule, type Module } from '../../../runner/types.js';

function fake(name: string, schema: TSchema, extra: Record<string, unknown> = {}): Module {
  return { ...defineModule({ name, schema, gather: async () => null, plan: () => ({ changes: [] }) }), ...extra } as Module;
}

export const modules: ReadonlyMap<string, Module> = new Map(
  [
    fake(
      'apt',
      Type.Object(
        {
          name: Type.Union([Type.String(), Type.Array(Type.String())]),
          state: Type.Optional(Type.Union([Type.Literal('present'), Type.Literal('absent'), Type.Literal('latest')])),
          update_cache: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    fake(
      'file',
      Type.Object(
        { path: Type.String(), mode: Type.Optional(Type.String()), state: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
    ),
    fake('shell', Type.Object({ cmd: Type.String(), chdir: Type.Optional(Type.String()) }, { additionalProperties: false }), {
      freeForm: 'cmd',
    }),
    fake('debug', Type.Object({ msg: Type.Optional(Type.Unknown()) }, { additionalProperties: false })),
    fake('service', Type.Object({ name: Type.String(), state: Type.Optional(Type.String()) }, { additionalProperties: false })),
  ].map((m) => [m.name, m]),
);

/** The same modules as the registry loadPlaybook takes. */
export const fakeRegistry = registryOf(modules.values());
