import { gzipSync } from 'node:zlib';
import fc from 'fast-check';

/*
 * Generators of hostile HTTP requests for the fuzz test (test/http/fuzz.test.ts),
 * and the one function that sends such a request over real HTTP and says
 * what came back. Values lean towards what has broken servers like this one
 * before: NUL, lone surrogates, LIKE wildcards and escapes, numbers beyond the
 * database's integers, years beyond 9999, deep nesting, bytes that are not UTF-8.
 */

/** Strings that are hostile as ids, names, query values and JSON members. */
export const NASTY_STRINGS = [
  '', ' ', '\0', 'a\0b', '\uD800', '\uDC00', 'x\uDBFFy', '..', '../..', '.', '%', '%%', '%00', '_', '\\', 'a\\', '\\%', '\'', '"', ';--',
  '*', '?', '#', '/', '\r\n', '\t', '\u202E', '\uFEFF', '😀', '中文', 'null', 'true', 'NaN', '-1', '0', '1e309', '-0',
  '2147483648', '9007199254740993', '99999999999999999999999', '+099999-01-01', '+099999-01-01T00:00:00Z', '0000-00-00', '9999-12-31T23:59:59.999+2359',
  '2026-02-30T00:00:00.000+0800', 'P999999999Y', 'R/PT0S', '${', '#{x}', '${execution.getVariable("a")}', '<x/>', '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
  '__proto__', 'constructor', 'toString', 'asc', 'desc', 'name', 'id',
];

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));

/** A string from the nasty list, a random one (any code units), or a very long one. */
export const fuzzString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: codeUnit, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NASTY_STRINGS), fc.string({ maxLength: 6 })).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: fc.constantFrom(300, 5_000, 20_000).map((n) => 'x'.repeat(n)) },
);

/**
 * Percent-encodes every UTF-16 code unit: a lone surrogate as the three
 * bytes WTF-8 gives it (`%ED%A0%80`), which are not UTF-8 (encodeURIComponent
 * would throw on it, yet any client can send those bytes).
 */
export function encodeLoose(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
    if (pair) {
      out += encodeURIComponent(s.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(s[i]);
    }
  }
  return out;
}

/** Already-encoded text sent as it is: broken escapes, an encoded NUL, overlong and invalid UTF-8. */
const rawEncoded = fc.constantFrom('%', '%zz', '%0', '%00', '%C0%80', '%FF', '%ED%A0%80', '%E4%B8', '%2e%2e', '%2F', '%5C', '%25', '%u0041');

/** A path segment or query value as it goes on the wire: a string encoded, raw escapes, or a real id from the server. */
export function urlValue(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: fuzzString.map(encodeLoose) },
    { weight: 1, arbitrary: fc.tuple(rawEncoded, fc.stringMatching(/^[a-z0-9]{0,4}$/)).map(([a, b]) => a + b) },
    { weight: known.length ? 5 : 0, arbitrary: known.length ? fc.constantFrom(...known).map(encodeURIComponent) : fc.constant('') },
  );
}

/** Query parameters of Camunda's REST API (and of this server's routes), and random names beside them. */
export const QUERY_NAMES = [
  'nameLike', 'name', 'id', 'key', 'keyLike', 'keysIn', 'processInstanceId', 'processInstanceIds', 'processInstanceIdIn', 'processDefinitionId',
  'processDefinitionKey', 'businessKey', 'businessKeyLike', 'processInstanceBusinessKey', 'processInstanceBusinessKeyLike', 'maxResults',
  'firstResult', 'sortBy', 'sortOrder', 'variables', 'variableName', 'variableNameLike', 'deploymentId', 'latestVersion', 'version', 'versionTag',
  'taskDefinitionKey', 'taskId', 'assignee', 'taskAssignee', 'assigned', 'unassigned', 'candidateGroup', 'candidateGroups', 'candidateUser',
  'includeAssignedTasks', 'activityId', 'activityType', 'executionId', 'externalTaskId', 'topicName', 'workerId', 'locked', 'noRetriesLeft',
  'withRetriesLeft', 'minPriority', 'maxPriority', 'finished', 'unfinished', 'open', 'resolved', 'incidentId', 'incidentType', 'jobId',
  'jobDefinitionId', 'dueAfter', 'dueBefore', 'dueDates', 'withoutDueDate', 'withException', 'timers', 'messages', 'afterTimestamp',
  'beforeTimestamp', 'entityId', 'entityType', 'operationType', 'userId', 'memberOfGroup', 'startableInTasklist', 'startablePermissionCheck',
  'deserializeValues', 'cascade', 'skipCustomListeners', 'source', 'configuration', 'reads',
];

/** Values a known parameter might plausibly get, each slightly wrong. */
const queryValue = (known: readonly string[]) => fc.oneof(
  { weight: 4, arbitrary: urlValue(known) },
  { weight: 2, arbitrary: fc.constantFrom('true', 'false', 'asc', 'desc', 'id', 'name', 'TRUE', '1', '-1', '0', '2147483647', '2147483648', '-2147483649', '1.5', '1e3', '0x10', 'Infinity') },
  { weight: 1, arbitrary: fc.constantFrom('title_eq_a', 'title_like_%25', 'a_gt_1', 'x_eq_', '_eq_1', 'a_eq_b,c_neq_d', 'a_like_%5C', 'a_eq_%00') },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => encodeURIComponent(d.toISOString())) },
);

/** A query string: known and random names, each possibly repeated (an array in Koa). */
export function queryString(known: readonly string[]): fc.Arbitrary<string> {
  const name = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...QUERY_NAMES) }, { weight: 1, arbitrary: fuzzString.map(encodeLoose) });
  return fc.array(fc.tuple(name, queryValue(known)), { maxLength: 5 }).map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('&'));
}

export const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json;charset=latin1',
  'application/json; charset=utf-16', 'APPLICATION/JSON', 'application/vnd.api+json', 'application/merge-patch+json', 'text/json', 'text/plain',
  'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data', 'multipart/form-data; boundary=fuzz',
  'application/xml', 'application/octet-stream', 'image/png', '*/*', 'application/json; boundary=x', ';', 'application',
];
export const CONTENT_ENCODINGS = ['gzip', 'deflate', 'br', 'identity', 'compress', 'x-unknown', 'gzip, gzip', 'GZIP', 'zstd', ''];
export const ACCEPTS = ['*/*', 'application/json', 'text/html', 'application/xml', 'application/octet-stream', 'application/hal+json', 'text/*;q=0.1', 'image/png'];

export interface Headers {
  contentType?: string;
  contentEncoding?: string;
  accept?: string;
  /** Compress the body with gzip (a truthful `Content-Encoding: gzip`, when that is the encoding). */
  gzipBody: boolean;
}

export const headers: fc.Arbitrary<Headers> = fc.record({
  contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined }),
  contentEncoding: fc.option(fc.constantFrom(...CONTENT_ENCODINGS), { freq: 4, nil: undefined }),
  accept: fc.option(fc.constantFrom(...ACCEPTS), { nil: undefined }),
  gzipBody: fc.boolean(),
});

/** Members that request bodies of this API read: wrong types for them reach the argument checks. */
export const BODY_MEMBERS = [
  'variables', 'modifications', 'deletions', 'localVariables', 'processVariables', 'correlationKeys', 'all', 'businessKey', 'messageName',
  'processInstanceId', 'resultEnabled', 'withVariablesInReturn', 'userId', 'workerId', 'topics', 'maxTasks', 'usePriority', 'asyncResponseTimeout',
  'lockDuration', 'newDuration', 'retries', 'retryTimeout', 'errorMessage', 'errorDetails', 'errorCode', 'duedate', 'due', 'followUp', 'priority',
  'name', 'description', 'id', 'profile', 'credentials', 'password', 'reference', 'message', 'value', 'type', 'valueInfo', 'sorting', 'orQueries',
  'candidateGroup', 'candidateUser', 'assignee', 'processDefinitionKey', 'taskDefinitionKey', 'expires', 'ttl',
];

const VARIABLE_TYPES = ['String', 'Integer', 'Long', 'Short', 'Double', 'Boolean', 'Date', 'Json', 'Xml', 'Object', 'Bytes', 'File', 'Null', 'string', 'Unknown', ''];

/** Any JSON value, with hostile strings and numbers at its leaves. */
const leaf = fc.oneof(
  fuzzString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 1e308, -1e308, Number.MAX_SAFE_INTEGER, -0, 0.1),
);
const jsonish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof(fc.constantFrom(...BODY_MEMBERS), fuzzString), tie('value'), { maxKeys: 4 }),
})).value;

/** A Camunda variable map whose entries are each a little (or very) wrong. */
const variableMap = fc.dictionary(
  fc.oneof(fc.constantFrom('title', 'note', 'x', 'secret_x', 'manifest'), fuzzString),
  fc.oneof(
    fc.record({ value: jsonish, type: fc.option(fc.constantFrom(...VARIABLE_TYPES), { nil: undefined }), valueInfo: fc.option(jsonish, { nil: undefined }) }, { requiredKeys: [] }),
    jsonish,
  ),
  { maxKeys: 3 },
);

/** `depth` levels of arrays or objects around a value, built as text (JSON.stringify would recurse). */
function nested(depth: number, kind: 'array' | 'object', inner: string): string {
  return kind === 'array' ? '['.repeat(depth) + inner + ']'.repeat(depth) : '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
}

export interface Body {
  /** What the sender puts on the wire. */
  bytes: Buffer;
  /** The Content-Type it goes with unless the headers say otherwise (null: none). */
  type: string | null;
  /** How the test report shows it. */
  shown: string;
}

const asJson = (v: unknown): Body => {
  const text = JSON.stringify(v) ?? 'null';
  return { bytes: Buffer.from(text, 'utf8'), type: 'application/json', shown: text.length > 400 ? `${text.slice(0, 400)}… (${text.length} chars)` : text };
};

/** A multipart body as Camunda's deployment/create takes one, often broken: unknown parts, no file name, truncated. */
const multipart = fc.record({
  parts: fc.array(fc.record({
    name: fc.oneof(fc.constantFrom('deployment-name', 'deployment-source', 'enable-duplicate-filtering', 'deploy-changed-only', 'tenant-id', 'data', 'x.bpmn'), fuzzString),
    filename: fc.option(fc.oneof(fc.constantFrom('a.bpmn', 'a.form', 'a.txt', '../a.bpmn', 'a\0.bpmn', ''), fuzzString), { nil: undefined }),
    content: fc.oneof(fuzzString.map((s) => Buffer.from(s, 'utf8')), fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), fc.constant(Buffer.from('<?xml version="1.0"?><definitions/>'))),
  }), { maxLength: 4 }),
  /** Cut the body this many bytes before its end (0: complete). */
  cut: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }) }),
}).map(({ parts, cut }): Body => {
  const boundary = 'fuzzboundary';
  const chunks = parts.map((p) => Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name.replace(/["\r\n]/g, '_')}"${p.filename !== undefined ? `; filename="${p.filename.replace(/["\r\n]/g, '_')}"` : ''}\r\n\r\n`, 'utf8'),
    p.content, Buffer.from('\r\n'),
  ]));
  const whole = Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]);
  const bytes = cut ? whole.subarray(0, Math.max(0, whole.length - cut)) : whole;
  return { bytes, type: `multipart/form-data; boundary=${boundary}`, shown: `multipart ${JSON.stringify(bytes.toString('latin1').slice(0, 400))}${cut ? ` (cut ${cut} bytes short)` : ''}` };
});

/** A request body: JSON of any shape, known members of the wrong type, deep nesting, bytes that are not JSON or not UTF-8, multipart. */
export const body: fc.Arbitrary<Body | null> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 3, arbitrary: jsonish.map(asJson) },
  { weight: 4, arbitrary: fc.dictionary(fc.constantFrom(...BODY_MEMBERS), fc.oneof(jsonish, variableMap), { minKeys: 1, maxKeys: 4 }).map(asJson) },
  { weight: 2, arbitrary: fc.record({ variables: variableMap }).map(asJson) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 12_000 }), fc.constantFrom('array', 'object') as fc.Arbitrary<'array' | 'object'>, fc.constantFrom('top', 'variable', 'member'))
      .map(([depth, kind, where]) => {
        const deep = nested(depth, kind, '1');
        const text = where === 'top' ? deep
          : where === 'variable' ? `{"variables":{"x":{"value":${JSON.stringify(deep)},"type":"Json"}},"modifications":{"x":{"value":${deep}}}}`
            : `{"variables":${deep},"topics":${deep},"profile":${deep}}`;
        return { bytes: Buffer.from(text), type: 'application/json', shown: `${kind} nested ${depth} deep (${where})` };
      }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 128 }).map((a): Body => ({ bytes: Buffer.from(a), type: 'application/json', shown: `bytes ${Buffer.from(a).toString('hex')}` })) },
  {
    weight: 1,
    // Invalid UTF-8 inside a JSON string: a lone surrogate's WTF-8 bytes, an overlong NUL, a stray continuation byte.
    arbitrary: fc.tuple(fc.constantFrom(...BODY_MEMBERS), fc.constantFrom([0xed, 0xa0, 0x80], [0xc0, 0x80], [0x80], [0xff, 0xfe], [0xe4, 0xb8])).map(([member, bad]): Body => {
      const bytes = Buffer.concat([Buffer.from(`{"${member}":"a`), Buffer.from(bad), Buffer.from('b","variables":{"v":{"value":"'), Buffer.from(bad), Buffer.from('"}}}')]);
      return { bytes, type: 'application/json', shown: `invalid UTF-8 ${bytes.toString('hex')}` };
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', '"x"', '[]', '1', '{', '{"a":1,}', "{'a':1}", '\uFEFF{}', '{"a":"\\ud800"}', '{"userId":"\\u0000"}').map((s): Body => ({ bytes: Buffer.from(s), type: 'application/json', shown: JSON.stringify(s) })) },
  { weight: 1, arbitrary: multipart },
);

/** One generated request against a route. */
export interface FuzzRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: Headers;
  body: Body | null;
  /** Credentials (an `Authorization` value), or none. */
  auth: string | undefined;
  /** Who the credentials are, for the report. */
  as: string;
}

/** What came back: a status and text, or why nothing did. */
export type Outcome = { status: number; text: string } | { failed: string };

/**
 * Sends `req` to `base` and waits at most `timeoutMs`: a request that is
 * not answered by then is aborted, and that is an outcome too.
 */
export async function send(base: string, req: FuzzRequest, timeoutMs: number): Promise<Outcome> {
  const h: Record<string, string> = {};
  if (req.auth) h.Authorization = req.auth;
  if (req.headers.accept) h.Accept = req.headers.accept;
  let bytes = req.body?.bytes;
  if (req.body && req.headers.contentEncoding !== undefined) {
    h['Content-Encoding'] = req.headers.contentEncoding;
    if (req.headers.gzipBody && /^gzip$/i.test(req.headers.contentEncoding)) bytes = gzipSync(req.body.bytes);
  }
  const type = req.headers.contentType ?? req.body?.type;
  if (req.body && type) h['Content-Type'] = type;
  try {
    const res = await fetch(`${base}${req.url}`, { method: req.method, headers: h, body: req.body ? bytes : undefined, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    const e = err as Error & { cause?: Error };
    return { failed: `${e.name}: ${e.message}${e.cause ? ` (${e.cause.message})` : ''}` };
  }
}

/** The request as a line of the report: method, URL, headers, and the body as shown. */
export function describe(req: FuzzRequest): string {
  const url = req.url.length > 300 ? `${req.url.slice(0, 300)}… (${req.url.length} chars)` : req.url;
  const h = [req.headers.contentType && `Content-Type: ${req.headers.contentType}`, req.body && req.headers.contentEncoding !== undefined && `Content-Encoding: ${req.headers.contentEncoding}${req.headers.gzipBody ? ' (gzipped)' : ''}`, req.headers.accept && `Accept: ${req.headers.accept}`]
    .filter(Boolean).join('; ');
  return `${req.method} ${url} as ${req.as}${h ? ` [${h}]` : ''}${req.body ? ` body ${req.body.shown}` : ''}`;
}
