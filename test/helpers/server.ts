import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { parseKeySpec, type Keyring } from '../../src/crypto/keyring.ts';
import { startServer, type Server, type StartOptions } from '../../src/server.ts';
import type { Backend, TestDb } from './db.ts';

export const ADMIN = { user: 'admin', password: 'admin-password-1' };

/**
 * The encryption key test servers run with unless a test sets its own: a
 * PostgreSQL server refuses to start without one, and an in-memory PGlite
 * server would otherwise write a key file into ./data.
 */
export const TEST_SM4_KEY = '5b1e2f8c9d0a47b6a3c4e5f60718293a';
export const TEST_KEY_ENV = { SM4_KEY: TEST_SM4_KEY };
export const testKeyring = (): Keyring => parseKeySpec(TEST_SM4_KEY);
export const repoRoot = path.resolve(import.meta.dirname, '../..');

/**
 * A processes folder that does not exist: the server deploys nothing at
 * start-up. For tests that move the clock by days and count what fires,
 * which the shipped cycles (daily patrol, weekly backup check) would join.
 */
export const NO_PROCESSES = { PROCESSES_DIR: path.join(repoRoot, 'test', 'no-processes-here') };

export interface TestServer extends Server {
  testDb: TestDb;
  stop(): Promise<void>;
}

/**
 * The real server (HTTP on an ephemeral port) on a fresh database of
 * `backend`. With `PUBLIC_PORT: '0'` in `env` it also opens the internet
 * zone's listener, at `publicUrl`. Its log is silent unless `options.log`
 * is given (a test that reads what the server logged).
 */
export async function startTestServer(backend: Backend, env: Record<string, string> = {}, options: Pick<StartOptions, 'clock' | 'runScheduler' | 'log'> = {}): Promise<TestServer> {
  const testDb = await backend.create();
  const config = loadConfig({
    PORT: '0', HOST: '127.0.0.1', PUBLIC_HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password,
    PROCESSES_DIR: path.join(repoRoot, 'processes'), LOG_LEVEL: 'silent', ...(env.SM4_KEY_FILE ? {} : TEST_KEY_ENV), ...env,
  });
  const server = await startServer(config, { db: testDb.db, ...options, log: options.log ?? pino({ level: 'silent' }) });
  return {
    ...server, testDb,
    async stop() {
      await server.close();
      await testDb.drop();
    },
  };
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny API client speaking to the server as one user over real HTTP. */
export function client(baseUrl: string, user?: string, password?: string) {
  const auth: Record<string, string> = user ? { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } : {};
  async function call<T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const res = await fetch(`${baseUrl}${url}`, {
      method,
      headers: { ...auth, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
  return {
    get: <T = any>(url: string) => call<T>('GET', url),
    post: <T = any>(url: string, body?: unknown, headers?: Record<string, string>) => call<T>('POST', url, body ?? {}, headers),
    put: <T = any>(url: string, body?: unknown) => call<T>('PUT', url, body ?? {}),
    delete: <T = any>(url: string) => call<T>('DELETE', url),
    raw: call,
  };
}
export type Client = ReturnType<typeof client>;

/** Creates a user in the given role groups, through the API, and returns a client for them. */
export async function makeUser(server: { url: string }, id: string, groups: string[]): Promise<Client> {
  const admin = client(server.url, ADMIN.user, ADMIN.password);
  const password = `${id}-password`;
  const created = await admin.post('/engine-rest/user/create', { profile: { id, firstName: id }, credentials: { password } });
  if (created.status !== 204) throw new Error(`user ${id}: ${created.status} ${JSON.stringify(created.body)}`);
  for (const g of groups) {
    const r = await admin.put(`/engine-rest/group/${g}/members/${id}`);
    if (r.status !== 204) throw new Error(`membership ${id} ${g}: ${r.status}`);
  }
  return client(server.url, id, password);
}

/** Camunda's variable map from plain values (strings, numbers, booleans). */
export function vars(values: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }]));
}

/** Deploys one BPMN file as the administrator through POST /deployment/create; the answer as it came. */
export async function deployBpmn(url: string, name: string, xml: string | Buffer): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('deployment-name', name);
  form.append(`${name}.bpmn`, new Blob([xml]), `${name}.bpmn`);
  const r = await fetch(`${url}/engine-rest/deployment/create`, {
    method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
  });
  return { status: r.status, body: await r.json() };
}
