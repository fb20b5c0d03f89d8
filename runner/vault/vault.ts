// The ansible-vault 1.1 format (AES256), so vault files move between rplay and ansible-vault both
// ways. A file is the header line, then the hex of
//   hex(salt) "\n" hex(hmac) "\n" hex(ciphertext)
// wrapped at 80 columns. PBKDF2-HMAC-SHA256 (10000 rounds, 32-byte salt) stretches the password
// into 80 bytes: an AES-256-CTR key, an HMAC-SHA256 key and the 16-byte initial counter block. The
// plaintext is PKCS#7-padded to 16 bytes (Ansible pads although CTR would not need it) and the HMAC
// covers the ciphertext only (encrypt-then-MAC), so a wrong password is caught before decrypting.
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const VAULT_HEADER = '$ANSIBLE_VAULT;1.1;AES256';

const SALT_BYTES = 32;
const ITERATIONS = 10000;
const KEY_BYTES = 32;
const IV_BYTES = 16;
const BLOCK = 16;
const WRAP = 80;

/** A vault file that cannot be opened: wrong password, damaged or not a vault. The message is for the user. */
export class VaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultError';
  }
}

export function isVaultText(text: string): boolean {
  return text.startsWith('$ANSIBLE_VAULT;');
}

interface DerivedKeys {
  cipherKey: Buffer;
  hmacKey: Buffer;
  iv: Buffer;
}

function deriveKeys(password: string, salt: Buffer): DerivedKeys {
  const k = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, 2 * KEY_BYTES + IV_BYTES, 'sha256');
  return { cipherKey: k.subarray(0, KEY_BYTES), hmacKey: k.subarray(KEY_BYTES, 2 * KEY_BYTES), iv: k.subarray(2 * KEY_BYTES) };
}

function pad(data: Buffer): Buffer {
  const n = BLOCK - (data.length % BLOCK);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

function unpad(data: Buffer): Buffer | undefined {
  const n = data.length > 0 ? data[data.length - 1] : 0;
  if (n < 1 || n > BLOCK || n > data.length) return undefined;
  for (let i = data.length - n; i < data.length; i++) if (data[i] !== n) return undefined;
  return data.subarray(0, data.length - n);
}

/** Encrypt bytes into vault text (header, 80-column hex lines, final newline) with a fresh salt. */
export function encryptVaultBytes(plaintext: Buffer, password: string, salt: Buffer = randomBytes(SALT_BYTES)): string {
  const { cipherKey, hmacKey, iv } = deriveKeys(password, salt);
  const c = createCipheriv('aes-256-ctr', cipherKey, iv);
  const ciphertext = Buffer.concat([c.update(pad(plaintext)), c.final()]);
  const mac = createHmac('sha256', hmacKey).update(ciphertext).digest();
  const inner = [salt, mac, ciphertext].map((b) => b.toString('hex')).join('\n');
  const outer = Buffer.from(inner, 'ascii').toString('hex');
  const lines = [VAULT_HEADER];
  for (let i = 0; i < outer.length; i += WRAP) lines.push(outer.slice(i, i + WRAP));
  return lines.join('\n') + '\n';
}

export function encryptVault(plaintext: string, password: string): string {
  return encryptVaultBytes(Buffer.from(plaintext, 'utf8'), password);
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function unhex(text: string, what: string, file: string): Buffer {
  if (!HEX.test(text)) throw new VaultError(`vault: corrupted file ${file}: ${what} is not hexadecimal`);
  return Buffer.from(text, 'hex');
}

/**
 * Decrypt vault text to bytes. `file` names the source in errors. Accepts the 1.2 header (which only
 * adds a vault id) and indented bodies (inline `!vault |` values).
 */
export function decryptVaultBytes(text: string, password: string, file: string): Buffer {
  const lines = text.trim().split(/\r?\n/);
  const fields = lines[0].trim().split(';');
  if (fields[0] !== '$ANSIBLE_VAULT') throw new VaultError(`vault: ${file} is not a vault file (no $ANSIBLE_VAULT header)`);
  if (fields[1] !== '1.1' && fields[1] !== '1.2') {
    throw new VaultError(`vault: ${file} uses vault format ${fields[1] ?? '(none)'}; rplay reads 1.1 and 1.2`);
  }
  if (fields[2] !== 'AES256') throw new VaultError(`vault: ${file} uses cipher ${fields[2] ?? '(none)'}; rplay reads AES256`);

  const body = unhex(lines.slice(1).join('').replace(/\s+/g, ''), 'the body', file).toString('ascii');
  const parts = body.split('\n');
  if (parts.length !== 3) throw new VaultError(`vault: corrupted file ${file}: expected salt, hmac and ciphertext`);
  const [salt, mac, ciphertext] = [unhex(parts[0], 'the salt', file), unhex(parts[1], 'the hmac', file), unhex(parts[2], 'the ciphertext', file)];

  const { cipherKey, hmacKey, iv } = deriveKeys(password, salt);
  const expected = createHmac('sha256', hmacKey).update(ciphertext).digest();
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
    throw new VaultError(`vault: wrong password or corrupted file ${file}`);
  }
  const d = createDecipheriv('aes-256-ctr', cipherKey, iv);
  const plain = unpad(Buffer.concat([d.update(ciphertext), d.final()]));
  if (!plain) throw new VaultError(`vault: corrupted file ${file}: bad padding`);
  return plain;
}

export function decryptVault(text: string, password: string, file: string): string {
  return decryptVaultBytes(text, password, file).toString('utf8');
}
