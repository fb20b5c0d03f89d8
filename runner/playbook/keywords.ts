// JSON Schemas (ajv) of what a play, a task, a block and an import may say besides a task's module.
const condition = { type: ['string', 'boolean', 'array'], items: { type: ['string', 'boolean'] } };
const names = { type: ['string', 'array'], items: { type: ['string', 'number'] } };
const mapping = { type: 'object' };

/** Keys shared by tasks and blocks. */
const common = {
  name: { type: 'string' },
  when: condition,
  tags: names,
  become: { type: 'boolean' },
  become_user: { type: 'string', minLength: 1 },
  vars: mapping,
  any_errors_fatal: { type: 'boolean' },
};

/** One batch size: a count, a percentage of the play's hosts, or a template giving either. */
const batchSize = { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^(\\d+%?|.*\\{\\{.*)$' }] };

export const taskKeywords = {
  type: 'object',
  properties: {
    ...common,
    loop: {},
    register: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    notify: names,
    changed_when: condition,
    failed_when: condition,
    until: condition,
    retries: { type: 'integer', minimum: 0 },
    delay: { type: 'number', minimum: 0 },
    timeout: { type: 'integer', minimum: 1 },
    ignore_errors: { type: 'boolean' },
    check_mode: { type: 'boolean' },
    no_log: { type: 'boolean' },
    run_once: { type: 'boolean' },
    delegate_to: { enum: ['localhost'] },
    args: mapping,
  },
} as const;

export const blockKeywords = {
  type: 'object',
  properties: {
    ...common,
    block: { type: 'array' },
    rescue: { type: 'array' },
    always: { type: 'array' },
  },
  required: ['block'],
  additionalProperties: false,
} as const;

export const playKeywords = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    hosts: { type: ['string', 'array'], items: { type: 'string' }, minLength: 1, minItems: 1 },
    remote_user: { type: 'string', minLength: 1 },
    become: { type: 'boolean' },
    become_user: { type: 'string', minLength: 1 },
    vars: { type: ['object', 'null'] },
    vars_files: { type: ['string', 'array'], items: { type: 'string' } },
    gather_facts: { type: 'boolean' },
    serial: { anyOf: [batchSize, { type: 'array', items: batchSize, minItems: 1 }] },
    max_fail_percentage: { anyOf: [{ type: 'number', minimum: 0, maximum: 100 }, { type: 'string', pattern: '^\\d+(\\.\\d+)?%$' }] },
    any_errors_fatal: { type: 'boolean' },
    force_handlers: { type: 'boolean' },
    tasks: { type: ['array', 'null'] },
    handlers: { type: ['array', 'null'] },
  },
  required: ['hosts'],
  additionalProperties: false,
} as const;

export const importKeywords = {
  type: 'object',
  properties: { name: { type: 'string' }, import_playbook: { type: 'string', minLength: 1 } },
  required: ['import_playbook'],
  additionalProperties: false,
} as const;

/** Ansible keywords rplay does not take, with what to write instead. */
export const unsupported: Record<string, string> = {
  with_items: 'use loop:',
  with_list: 'use loop:',
  with_dict: 'use loop: "{{ x | dict2items }}"',
  loop_control: 'loop variables are always item',
  include_tasks: 'use import_playbook, or a block',
  import_tasks: 'use import_playbook, or a block',
  include_role: 'roles are not supported; use import_playbook',
  import_role: 'roles are not supported; use import_playbook',
  roles: 'roles are not supported; use import_playbook',
  pre_tasks: 'put these tasks first in tasks:',
  post_tasks: 'put these tasks last in tasks:',
  local_action: 'use delegate_to: localhost',
  environment: 'set variables in the command itself (shell: FOO=1 cmd)',
  listen: 'notify the handler by its name',
};
