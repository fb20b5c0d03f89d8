// Backups at rest on the controller are encrypted (they are the PHI itself). Each backup gets its
// own key, derived with HKDF-SHA256 from the vault's vault_backup_key and a random salt recorded in
// backup.json; each file is AES-256-GCM with a random nonce, streamed a chunk at a time. The
// additional data binds a file to its path and to the exact bytes of backup.json, so moving a file,
// swapping files between backups or editing backup.json (where restore puts the files) fails the tag.
//
// File layout: MAGIC (8 bytes) | nonce (12) | ciphertext | GCM tag (16).
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, type CipherGCM } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

export const CIPHER = 'aes-256-gcm';
export const KDF = 'hkdf-sha256';
const MAGIC = Buffer.from('RPLAYBK1');
const NONCE = 12;
const TAG = 16;
/** Bytes an encrypted file has on top of its plaintext. */
export const OVERHEAD = MAGIC.length + NONCE + TAG;
/** GCM's limit for one nonce is 2^39-256 bits; a file above 64 GiB is refused. */
export const MAX_PLAINTEXT = 64 * 2 ** 30;
const READ_CHUNK = 1 << 20;
export const KEY_VARIABLE = 'vault_backup_key';
export const MIN_KEY_LENGTH = 32;

/** What backup.json records of the encryption (the salt is not secret). */
export interface BackupEncryption {
  cipher: typeof CIPHER;
  kdf: typeof KDF;
  salt: string;
}

export class BackupKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupKeyError';
  }
}

/** The vault key, checked; never quoted in the message. */
export function checkBackupKey(key: string | undefined): string {
  if (key === undefined || key === '') throw new BackupKeyError(`no backup key: set ${KEY_VARIABLE} in the vault (${MIN_KEY_LENGTH}+ characters, e.g. from \`openssl rand -base64 32\`)`);
  if (key.length < MIN_KEY_LENGTH) throw new BackupKeyError(`${KEY_VARIABLE} is ${key.length} characters; backups need ${MIN_KEY_LENGTH} or more`);
  return key;
}

export function newEncryption(): BackupEncryption {
  return { cipher: CIPHER, kdf: KDF, salt: randomBytes(32).toString('hex') };
}

/** This backup's key (32 bytes), from the vault key and the backup's salt. */
export function backupKey(vaultKey: string, enc: BackupEncryption): Buffer {
  if (enc.cipher !== CIPHER || enc.kdf !== KDF || !/^[0-9a-f]{64}$/.test(enc.salt)) throw new BackupKeyError(`unknown encryption ${JSON.stringify(enc).slice(0, 120)} (rplay writes ${CIPHER} with ${KDF})`);
  return Buffer.from(hkdfSync('sha256', Buffer.from(vaultKey, 'utf8'), Buffer.from(enc.salt, 'hex'), 'rplay backup v1', 32));
}

/** Binds a file to its place in the backup and to backup.json's bytes. */
export function fileAad(metaText: string, path: string): Buffer {
  return Buffer.from(`rplay-backup\0${createHash('sha256').update(metaText).digest('hex')}\0${path}`, 'utf8');
}

/** Flags for a file rplay creates on the controller: a new file, never through a symlink. */
export const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** An encrypted file being written: plaintext in with write(), then end(). sha256s of both sides. */
export class EncryptedWriter {
  readonly #fh: FileHandle;
  readonly #cipher: CipherGCM;
  readonly #plain = createHash('sha256');
  readonly #stored = createHash('sha256');
  #size = 0;

  private constructor(fh: FileHandle, cipher: CipherGCM) {
    this.#fh = fh;
    this.#cipher = cipher;
  }

  static async create(path: string, key: Buffer, aad: Buffer): Promise<EncryptedWriter> {
    const fh = await open(path, CREATE_FLAGS, 0o600);
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv(CIPHER, key, nonce);
    cipher.setAAD(aad);
    const w = new EncryptedWriter(fh, cipher);
    await w.#out(Buffer.concat([MAGIC, nonce]));
    return w;
  }

  async #out(bytes: Buffer): Promise<void> {
    this.#stored.update(bytes);
    await this.#fh.write(bytes);
  }

  async write(plain: Buffer): Promise<void> {
    this.#size += plain.length;
    if (this.#size > MAX_PLAINTEXT) throw new RangeError(`a file above ${MAX_PLAINTEXT} bytes cannot be encrypted with one nonce`);
    this.#plain.update(plain);
    await this.#out(this.#cipher.update(plain));
  }

  /** Finishes the file; the sha256 of the plaintext and of the bytes stored. */
  async end(): Promise<{ plainSha256: string; storedSha256: string; size: number }> {
    try {
      await this.#out(Buffer.concat([this.#cipher.final(), this.#cipher.getAuthTag()]));
      await this.#fh.sync();
    } finally {
      await this.#fh.close();
    }
    return { plainSha256: this.#plain.digest('hex'), storedSha256: this.#stored.digest('hex'), size: this.#size };
  }

  async abort(): Promise<void> {
    await this.#fh.close();
  }
}

/** The file does not decrypt: wrong key, or its bytes (or backup.json's) were changed. The message follows the file's name. */
export class DecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptError';
  }
}

/**
 * The plaintext of an encrypted file, a chunk at a time; throws a DecryptError after the last one
 * when the tag fails, so a consumer must not use what it got before the generator ended (restore
 * stages on the host and swaps only afterwards). The plaintext's sha256 is handed to `done`.
 */
export async function* decryptChunks(path: string, key: Buffer, aad: Buffer, done?: (plainSha256: string, size: number) => void): AsyncGenerator<Buffer> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new DecryptError('is not a regular file');
    if (st.size < OVERHEAD) throw new DecryptError(`is too short to be an encrypted backup file (${st.size} bytes)`);
    const head = Buffer.alloc(MAGIC.length + NONCE);
    await fh.read(head, 0, head.length, 0);
    if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw new DecryptError('is not an rplay-encrypted backup file');
    const tag = Buffer.alloc(TAG);
    await fh.read(tag, 0, TAG, st.size - TAG);
    const decipher = createDecipheriv(CIPHER, key, head.subarray(MAGIC.length));
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const hash = createHash('sha256');
    let pos = head.length;
    const end = st.size - TAG;
    const buf = Buffer.alloc(READ_CHUNK);
    while (pos < end) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(READ_CHUNK, end - pos), pos);
      if (bytesRead === 0) throw new DecryptError('shrank while being read');
      pos += bytesRead;
      const plain = decipher.update(buf.subarray(0, bytesRead));
      hash.update(plain);
      if (plain.length > 0) yield plain;
    }
    try {
      // GCM yields no bytes at final(): it only checks the tag.
      decipher.final();
    } catch {
      throw new DecryptError(`fails its authentication tag: wrong ${KEY_VARIABLE}, or the file or backup.json was changed`);
    }
    done?.(hash.digest('hex'), end - head.length);
  } finally {
    await fh.close();
  }
}

/** Decrypts the whole file to check its tag, keeping nothing; the plaintext's sha256. */
export async function verifyEncrypted(path: string, key: Buffer, aad: Buffer): Promise<string> {
  let sha = '';
  for await (const _ of decryptChunks(path, key, aad, (s) => (sha = s))) void _;
  return sha;
}
