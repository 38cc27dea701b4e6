import fs from 'node:fs';
import { ConfigError } from '../config.ts';
import { generateKeyringText, KeyringFormatError, parseKeySpec, type Keyring } from './keyring.ts';

/** The keyring file an embedded server generates in its DATA_DIR on first start. */
export const GENERATED_KEY_FILE = 'sm4-keyring.json';

/**
 * Reads a keyring file (a JSON keyring, or the same text SM4_KEY takes).
 * `warn` hears about a file others may read; the message names the file,
 * never its contents.
 */
export function readKeyFile(file: string, warn: (message: string) => void): Keyring {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`SM4_KEY_FILE: 无法读取密钥文件 / cannot read the key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (process.platform !== 'win32' && (fs.statSync(file).mode & 0o077) !== 0) {
    warn(`密钥文件 ${file} 可被其他用户读取，请执行 chmod 600 / the key file ${file} is readable by other users: chmod 600 it`);
  }
  try {
    return parseKeySpec(text);
  } catch (err) {
    if (err instanceof KeyringFormatError) throw new ConfigError(`SM4_KEY_FILE ${file}: ${err.message}`);
    throw err;
  }
}

/**
 * Creates a keyring file with one random key, readable by this user only.
 * Refuses to overwrite: if the file appeared meanwhile, that one is used.
 */
export function createKeyFile(file: string, warn: (message: string) => void): Keyring {
  try {
    fs.writeFileSync(file, generateKeyringText(), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(`无法创建密钥文件 / cannot create the key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  return readKeyFile(file, warn);
}
