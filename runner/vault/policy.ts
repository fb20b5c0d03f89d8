// Passwords the deployment refuses: the runbook's published samples (anyone who read the runbook
// knows them) and anything short enough to guess. The error names the variable, never the value.
import { Secret } from '../secret.js';

export const MIN_PASSWORD_LENGTH = 16;

const RUNBOOK_SAMPLES: ReadonlySet<string> = new Set(['AppPassword123!', 'DevPassword123!', 'AdminPassword123!']);

export class PasswordPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PasswordPolicyError';
  }
}

export function checkPasswordPolicy(name: string, value: string | Secret): void {
  const v = value instanceof Secret ? value.reveal() : value;
  if (RUNBOOK_SAMPLES.has(v)) {
    throw new PasswordPolicyError(`password policy: ${name} is one of the runbook's sample passwords; set a random one in the vault`);
  }
  if ([...v].length < MIN_PASSWORD_LENGTH) {
    throw new PasswordPolicyError(`password policy: ${name} is shorter than ${MIN_PASSWORD_LENGTH} characters`);
  }
}
