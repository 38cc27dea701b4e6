/** The server's REST API, with the Bearer token of the signed-in user. */
export interface Session {
  token: string;
  tokenId: string;
  userId: string;
  /** Epoch milliseconds. */
  expires: number;
  groups: { id: string; name: string }[];
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const KEY = 'staff-session';
let onExpired: () => void = () => undefined;

export function whenExpired(fn: () => void): void {
  onExpired = fn;
}

export function session(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    if (s && s.expires > Date.now()) return s;
  } catch {
    // unreadable: treat as signed out
  }
  sessionStorage.removeItem(KEY);
  return null;
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = res.statusText;
  try {
    const body = (await res.json()) as { message?: string };
    if (body?.message) message = body.message;
  } catch {
    // not JSON
  }
  return new ApiError(res.status, message);
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const s = session();
  if (!s) {
    onExpired();
    throw new ApiError(401, 'session expired');
  }
  const res = await fetch(`/engine-rest${path}`, {
    method,
    headers: { Authorization: `Bearer ${s.token}`, Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) {
    sessionStorage.removeItem(KEY);
    onExpired();
    throw new ApiError(401, 'session expired');
  }
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Exchanges the password once for a token; the password is not kept. */
export async function login(userId: string, password: string): Promise<Session> {
  const basic = btoa(String.fromCharCode(...new TextEncoder().encode(`${userId}:${password}`)));
  const res = await fetch('/engine-rest/token', {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ name: 'web' }),
  });
  if (!res.ok) throw await errorOf(res);
  const issued = (await res.json()) as { id: string; token: string; userId: string; expires: string };
  const expires = Date.parse(issued.expires.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  const s: Session = { token: issued.token, tokenId: issued.id, userId: issued.userId, expires, groups: [] };
  sessionStorage.setItem(KEY, JSON.stringify(s));
  s.groups = await api<{ id: string; name: string }[]>('GET', `/group?member=${encodeURIComponent(issued.userId)}`);
  sessionStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

/** Revokes the token on the server, then forgets it. */
export async function logout(): Promise<void> {
  const s = session();
  if (s) await api('DELETE', `/token/${encodeURIComponent(s.tokenId)}`).catch(() => undefined);
  sessionStorage.removeItem(KEY);
}

export interface Task {
  id: string;
  name: string | null;
  assignee: string | null;
  created: string;
  due: string | null;
  processDefinitionId: string;
  processInstanceId: string;
  taskDefinitionKey: string;
  candidateGroups: string[];
  priority: number;
}

export interface Definition {
  id: string;
  key: string;
  name: string | null;
  version: number;
  startableInTasklist: boolean;
}

export type FormVariables = Record<string, { value: unknown; type: string }>;
