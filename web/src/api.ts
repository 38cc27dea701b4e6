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
  /** The Camunda error body's `details` (a refused deployment's parse errors), when there are any. */
  constructor(readonly status: number, message: string, readonly details?: unknown) {
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
  let details: unknown;
  try {
    const body = (await res.json()) as { message?: string; details?: unknown };
    if (body?.message) message = body.message;
    details = body?.details;
  } catch {
    // not JSON
  }
  return new ApiError(res.status, message, details);
}

/** A request with the session's token; a refusal is thrown as an ApiError. */
async function send(method: string, path: string, body: unknown, accept: string): Promise<Response> {
  const s = session();
  if (!s) {
    onExpired();
    throw new ApiError(401, 'session expired');
  }
  const multipart = body instanceof FormData;
  const res = await fetch(`/engine-rest${path}`, {
    method,
    headers: { Authorization: `Bearer ${s.token}`, Accept: accept, ...(body !== undefined && !multipart ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : multipart ? body : JSON.stringify(body),
  });
  if (res.status === 401) {
    sessionStorage.removeItem(KEY);
    onExpired();
    throw new ApiError(401, 'session expired');
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** A JSON request, or a multipart one when `body` is FormData (a deployment). */
export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body, 'application/json');
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A GET of something that is not JSON (a deployment's resource), as text. */
export async function apiText(path: string): Promise<string> {
  return (await send('GET', path, undefined, '*/*')).text();
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

/** Query strings without undefined or empty values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const text = p.toString();
  return text ? `?${text}` : '';
}

export function isAdmin(s: Session | null = session()): boolean {
  return !!s?.groups.some((g) => g.id === 'camunda-admin');
}

export function inGroup(id: string, s: Session | null = session()): boolean {
  return !!s?.groups.some((g) => g.id === id);
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

export interface HistoricInstance {
  id: string;
  businessKey: string | null;
  processDefinitionId: string;
  processDefinitionKey: string;
  processDefinitionName: string | null;
  processDefinitionVersion: number | null;
  startTime: string;
  endTime: string | null;
  startUserId: string | null;
  deleteReason: string | null;
  state: string;
}

export interface HistoricActivity {
  id: string;
  activityId: string;
  activityName: string | null;
  activityType: string;
  taskId: string | null;
  assignee: string | null;
  startTime: string;
  endTime: string | null;
  canceled: boolean;
}

export interface HistoricTask {
  id: string;
  name: string | null;
  taskDefinitionKey: string;
  assignee: string | null;
  completedBy: string | null;
  startTime: string;
  endTime: string | null;
  deleteReason: string | null;
}

export interface Job {
  id: string;
  jobDefinitionId: string;
  processInstanceId: string;
  processDefinitionId: string;
  processDefinitionKey: string;
  dueDate: string;
  exceptionMessage: string | null;
}

export interface JobDefinition {
  id: string;
  processDefinitionId: string;
  processDefinitionKey: string;
  activityId: string;
  jobConfiguration: string;
  nextDueDate: string | null;
  lastError: string | null;
}

export interface Incident {
  id: string;
  processInstanceId: string;
  incidentTimestamp: string;
  incidentType: string;
  activityId: string;
  configuration: string | null;
  incidentMessage: string | null;
}

export interface Comment {
  id: string;
  userId: string;
  time: string;
  message: string;
}

export interface TraceEntry {
  id: string;
  userId: string;
  timestamp: string;
  operationType: string;
  entityType: string;
  entityId: string | null;
  processInstanceId: string | null;
  source: string | null;
  details: Record<string, unknown>;
}

export interface ChainReport {
  ok: boolean;
  rows: number;
  heads: { chain: number; id: string; hash: string }[];
  broken: { id: string; chain: number; reason: string } | null;
}

/** The activity id of a timer job (`timer:<definition id>:<activity id>`; activity ids hold no colon). */
export function jobActivityId(job: Pick<Job, 'jobDefinitionId'>): string {
  return job.jobDefinitionId.slice(job.jobDefinitionId.lastIndexOf(':') + 1);
}

/** The caller's notification preferences (GET/PUT /notification/preferences). */
export interface NotificationPreferences {
  inApp: true;
  email: boolean;
  quietHours: { start: string; end: string; timeZone: string } | null;
}

/** One of the caller's in-app notifications (站内信). */
export interface AppNotification {
  id: string;
  type: string;
  title: string;
  body: string;
  taskId: string | null;
  processInstanceId: string | null;
  /** Its task has ended (or is gone): there is nothing left to open. */
  taskEnded: boolean;
  /** The web app's path to its open task or instance; null once its task has ended. */
  link: string | null;
  created: string;
  read: boolean;
}

/** One entry of "抄送我的": an instance copied to the caller (抄送). */
export interface CarbonCopy {
  id: string;
  processInstanceId: string;
  processDefinitionKey: string;
  processDefinitionName: string | null;
  businessKey: string | null;
  taskId: string;
  activityId: string;
  /** Who copied it. */
  from: string;
  message: string | null;
  created: string;
  read: boolean;
}
