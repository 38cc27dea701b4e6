/** Domain types shared by services, engine and HTTP. Row shapes stay in store/. */

/** A `camunda:formField`, as the task's form and its validation need it. */
export interface FormField {
  id: string;
  label: string | null;
  type: string;
  defaultValue: string | null;
  /** `camunda:constraint`s: required, readonly, minlength, maxlength, min, max. */
  constraints: { name: string; config: string | null }[];
  /** Options of an `enum` field. */
  values: { id: string; name: string | null }[];
  /**
   * The field's `camunda:property`s (`id` → `value`), when it has any, e.g.
   * `sensitive: 'true'` for personal data such as an ID-card number.
   */
  properties?: Record<string, string>;
  /**
   * Marked `<camunda:property id="sensitive" value="true" />`: the variable
   * of this name is stored encrypted in every instance of the definition.
   * Absent (not false) when unmarked, so older stored forms read the same.
   */
  sensitive?: true;
}

/** Form fields per flow-node id (start events and user tasks). */
export type Forms = Record<string, FormField[]>;

/** Camunda 7 variable value types we accept. */
export const variableTypes = ['String', 'Boolean', 'Integer', 'Short', 'Long', 'Double', 'Date', 'Json', 'Bytes', 'File', 'Null'] as const;
export type VariableType = (typeof variableTypes)[number];

/** What Camunda's REST says about a File variable besides its content. */
export interface FileValueInfo {
  filename: string;
  mimeType?: string;
  encoding?: string;
}

/**
 * A typed process variable. `value` is the engine-facing value (Date as ISO
 * string, Json as parsed, Bytes and File as base64 text, as Camunda's REST
 * carries them).
 */
export interface TypedValue {
  type: VariableType;
  value: unknown;
  /** Only for File. */
  valueInfo?: FileValueInfo;
}

export type Variables = Record<string, TypedValue>;

/** The authenticated caller. */
export interface Principal {
  userId: string;
  groups: string[];
  isAdmin: boolean;
  /** Where the request came from (the client's address), for the trace. */
  source?: string | undefined;
  /**
   * For a password login: a digest of the stored password hash the password was
   * checked against (credentialTag), so that a token is never issued on a password
   * changed while the request was under way.
   */
  credential?: string | undefined;
}

export const ADMIN_GROUP = 'camunda-admin';

/**
 * The start user of instances started from the internet zone: the public
 * has no accounts, so every citizen is this one name in history.
 */
export const PUBLIC_USER = 'public';

/**
 * The server acting on its own (the scheduler firing timers and start
 * timers, delivering thrown messages, deploying processes/): its user in
 * history and in the trace, with an administrator's rights.
 */
export const SYSTEM_USER = 'system';
export const SYSTEM: Principal = { userId: SYSTEM_USER, groups: [ADMIN_GROUP], isAdmin: true };

/** Members may work external tasks (machines: backup checks, scanners). */
export const WORKERS_GROUP = 'workers';

/** The organisation's roles; each is a group created on first start. */
export const roleGroups = [
  { id: 'leading-group', name: '领导小组 / Leading group' },
  { id: 'office', name: '领导小组办公室 / Office of the leading group' },
  { id: 'network-security', name: '网络安全工作小组 / Network security working group' },
  { id: 'data-security', name: '数据安全工作小组 / Data security working group' },
  { id: 'app-security', name: '应用安全工作小组 / Application security working group' },
] as const;
