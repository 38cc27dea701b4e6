import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { backends } from '../helpers/db.ts';
import { privateAppRoutes } from '../helpers/routes.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { timerDiagram } from '../helpers/timer-diagrams.ts';
import { scheduleCleanupJob } from '../../src/store/history-cleanup.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, repoRoot, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Every route of the API, with who may call it and what it leaves in the
 * trace. For each: no credentials → 401; a caller of the wrong kind → 403
 * or 404; the right caller → success, leaving exactly the expected trace
 * rows. A route the router has and this table lacks fails the suite.
 */

type Who = 'admin' | 'office' | 'network' | 'worker';
interface Case {
  /** `METHOD /engine-rest/path/:param`, as the router names it. */
  route: string;
  as: Who;
  /** A caller who must be refused (403 or 404); null when every signed-in user may. */
  wrong: Who | null;
  /**
   * Prepares what the call needs; returns the concrete path (under
   * /engine-rest), the body, and the process instance whose data the call
   * reads or changes: then every row it leaves must name that instance.
   */
  make: (f: Fixtures) => Promise<{ url: string; body?: unknown; pi?: string }>;
  /** `Operation Entity` of each row the right caller leaves, in order. */
  trace: string[];
  /** The one backend where the call can succeed (a backup is the embedded database's); both when absent. */
  on?: 'pglite' | 'postgres';
}

/** A role webhook to read or change (created once per server). */
const webhooks = new WeakMap<object, Promise<string>>();
const webhookOf = (f: { s: object; c: Record<string, Client> }) => {
  if (!webhooks.has(f.s)) {
    webhooks.set(f.s, f.c.admin.post('/engine-rest/notification-webhook', { name: 'rt', groupId: 'office', format: 'json', url: 'https://example.org/rt' }).then((r) => r.body.id as string));
  }
  return webhooks.get(f.s)!;
};

/** A user of no roles, made by an administrator, for the routes that delete one. */
async function freshUser(f: { c: Record<Who, Client> }): Promise<string> {
  const id = `rt-${Math.random().toString(36).slice(2, 8)}`;
  await f.c.admin.post('/engine-rest/user/create', { profile: { id }, credentials: { password: 'long-enough-1' } });
  return id;
}
/** A group of no members, for the routes that change or delete one. */
async function freshGroup(f: { c: Record<Who, Client> }): Promise<string> {
  const id = `rt-${Math.random().toString(36).slice(2, 8)}`;
  await f.c.admin.post('/engine-rest/group/create', { id, name: '临时组' });
  return id;
}

const PLAN = 'security-plan-approval';
const draft = vars({ title: '年度规划', summary: '全年网络与数据安全建设规划草案' });
const b64 = Buffer.from('备份清单').toString('base64');

interface Fixtures {
  s: TestServer;
  c: Record<Who, Client>;
  plan(): Promise<{ pi: string; task: string }>;
  external(lockedBy?: string): Promise<{ pi: string; id: string }>;
  job(): Promise<string>;
  deployment(): Promise<{ id: string; resource: string; definition: string }>;
}

let ownKeys = 0;
/** Deploys a process of a key of its own (one version), for the by-key suspension routes; returns the key. */
async function ownKey(f: Fixtures): Promise<string> {
  const key = `route-table-own-${++ownKeys}`;
  await f.s.services.deployments.deploy(oneResource(`${key}.bpmn`, Buffer.from(fixture('no-match.bpmn').toString('utf8').replace('process id="no-match"', `process id="${key}"`))));
  return key;
}

let conditionalStarts = 0;
/** Deploys a new version of a process with a conditional start event (`${amount > 1000}`); returns its definition id. */
async function conditionalStart(f: Fixtures): Promise<string> {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="t">
  <bpmn:process id="route-table-condition" isExecutable="true">
    <bpmn:startEvent id="big"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">\${amount > 1000}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="big" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions><!-- ${++conditionalStarts} -->`;
  const r = await f.s.services.deployments.deploy(oneResource(`route-table-condition-${conditionalStarts}.bpmn`, Buffer.from(xml)));
  return r.definitions[0].id;
}

const decisionOf = new WeakMap<TestServer, Promise<{ id: string; drd: string }>>();
/** The dish decision and the dinner requirements definition (fixtures/dmn-rest), deployed once per server. */
function decisions(f: Fixtures): Promise<{ id: string; drd: string }> {
  if (!decisionOf.has(f.s)) {
    decisionOf.set(f.s, (async () => {
      const dish = await f.s.services.deployments.deploy(oneResource('rt-dish.dmn', fixture('dmn-rest/dish.dmn')));
      const dinner = await f.s.services.deployments.deploy(oneResource('rt-dinner.dmn', fixture('dmn-rest/dinner.dmn')));
      return { id: dish.decisions.decisions[0].id, drd: dinner.decisions.requirements[0].id };
    })());
  }
  return decisionOf.get(f.s)!;
}
const migrationOf = new WeakMap<TestServer, Promise<{ sourceProcessDefinitionId: string; targetProcessDefinitionId: string }>>();
/** Two versions of the migration fixture, deployed once per server. */
function migrationPair(f: Fixtures): Promise<{ sourceProcessDefinitionId: string; targetProcessDefinitionId: string }> {
  if (!migrationOf.has(f.s)) {
    migrationOf.set(f.s, (async () => {
      const v1 = await f.s.services.deployments.deploy(oneResource('rt-mig-v1.bpmn', fixture('migration/mig-v1.bpmn')));
      const v2 = await f.s.services.deployments.deploy(oneResource('rt-mig-v2.bpmn', fixture('migration/mig-v2.bpmn')));
      return { sourceProcessDefinitionId: v1.definitions[0].id, targetProcessDefinitionId: v2.definitions[0].id };
    })());
  }
  return migrationOf.get(f.s)!;
}
async function migrationPlan(f: Fixtures) {
  return (await f.s.services.migration.generate(await migrationPair(f), adminPrincipal)) as Record<string, unknown>;
}
/** A running instance of the migration fixture's first version. */
async function migrationInstance(f: Fixtures): Promise<string> {
  const { sourceProcessDefinitionId } = await migrationPair(f);
  const r = await f.c.admin.post(`/engine-rest/process-definition/${sourceProcessDefinitionId}/start`, { variables: { starter: { value: 'admin' }, signers: { value: '["a"]', type: 'Json' } } });
  return r.body.id;
}
/** A migration batch that stays running whatever the scheduler does: its one job fails (no such instance). */
async function migrationBatch(f: Fixtures): Promise<string> {
  const body = { migrationPlan: await migrationPlan(f), processInstanceIds: ['no-such-instance'] };
  return (await f.s.services.batches.migrateAsync(body, adminPrincipal)).id;
}
const dishInput = { variables: { season: { value: 'Summer', type: 'String' }, guestCount: { value: 4, type: 'Integer' } } };

type Call = { url: string; body?: unknown };
/** A call on the execution of a fresh plan-approval instance's open task; `withNote` gives it a local variable `note` first. */
const onExecution = (call: (x: { pi: string; task: string; execution: string }) => Call, withNote = false) => async (f: Fixtures) => {
  const p = await f.plan();
  const execution = (await f.s.services.tasks.get(p.task, adminPrincipal)).execution_id;
  if (withNote) await f.s.services.localVariables.modifyExecutionLocals(execution, { modifications: { note: { type: 'String', value: '备注' } }, deletions: [] }, adminPrincipal);
  return { ...call({ ...p, execution }), pi: p.pi };
};
const waitsOf = new WeakMap<TestServer, Promise<void>>();
/**
 * A fresh instance of exec-waits (test/conformance/fixtures, deployed once per server, started by the
 * administrator; its review task is offered to office): the executions of its waiting receive task (message
 * exec-pay) and signal catch (exec-go).
 */
async function waitingExecutions(f: Fixtures): Promise<{ pi: string; pay: string; go: string }> {
  if (!waitsOf.has(f.s)) {
    waitsOf.set(f.s, f.s.services.deployments.deploy(oneResource('exec-waits.bpmn', fs.readFileSync(path.join(repoRoot, 'test/conformance/fixtures/exec-waits.bpmn')))).then(() => undefined));
  }
  await waitsOf.get(f.s);
  const { instance } = await f.s.services.instances.startByKey('exec-waits', { variables: {} }, adminPrincipal);
  const subs: { activity_id: string; execution_id: string }[] = await f.s.db('message_subscriptions').where({ process_instance_id: instance.id });
  return { pi: instance.id, pay: subs.find((x) => x.activity_id === 'pay')!.execution_id, go: subs.find((x) => x.activity_id === 'go')!.execution_id };
}
const onWaits = (call: (w: { pi: string; pay: string; go: string }) => Call) => async (f: Fixtures) => {
  const w = await waitingExecutions(f);
  return { ...call(w), pi: w.pi };
};
/** A call on a fresh plan-approval instance's open task, given a task-local variable `note` first. */
const onTaskNote = (call: (p: { pi: string; task: string }) => Call) => async (f: Fixtures) => {
  const p = await f.plan();
  await f.s.services.localVariables.modifyTaskLocals(p.task, { modifications: { note: { type: 'String', value: '备注' } }, deletions: [] }, adminPrincipal);
  return { ...call(p), pi: p.pi };
};
/** A call on a fresh plan-approval instance (its open task offered to office). */
/** The id of the latest version of `key`. */
async function latestId(f: Fixtures, key: string): Promise<string> {
  return (await f.s.services.definitions.getLatest(key)).id;
}
/** A filter of office-rt's, shared with nobody: another role does not see it. */
async function officeFilter(f: { c: Record<Who, Client> }, query: Record<string, unknown> = {}): Promise<string> {
  const r = await f.c.office.post('/engine-rest/filter/create', { resourceType: 'Task', name: '办公室的过滤器', query });
  if (r.status !== 200) throw new Error(`filter: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}
/** A new plan instance and an office filter of its one task. */
const onPlanFilter = (call: (filterId: string, p: { pi: string; task: string }) => Call) => async (f: Fixtures) => {
  const p = await f.plan();
  return call(await officeFilter(f, { processInstanceId: p.pi }), p);
};
const onPlan = (call: (p: { pi: string; task: string }) => Call) => async (f: Fixtures) => {
  const p = await f.plan();
  return { ...call(p), pi: p.pi };
};
const officePrincipal = { userId: 'office-rt', groups: ['office'], isAdmin: false };
/** A call on a fresh plan's task with a comment of office-rt's. */
const onComment = (call: (p: { pi: string; task: string; comment: string }) => Call) => async (f: Fixtures) => {
  const p = await f.plan();
  const comment = (await f.s.services.comments.add(p.task, '请补充', officePrincipal)).id;
  return { ...call({ ...p, comment }), pi: p.pi };
};
/** A call on a fresh plan's task with an attachment (content) office-rt added. */
const onAttachment = (call: (p: { pi: string; task: string; attachment: string }) => Call) => async (f: Fixtures) => {
  const p = await f.plan();
  const attachment = (await f.s.services.attachments.create(p.task, { name: '清单', description: null, type: null, url: null, content: Buffer.from('备份清单') }, officePrincipal)).id;
  return { ...call({ ...p, attachment }), pi: p.pi };
};
/** A plan instance an administrator deleted: finished, so its history may be deleted. */
async function finishedPlan(f: Fixtures): Promise<string> {
  const { pi } = await f.plan();
  const r = await f.c.admin.raw('DELETE', `/engine-rest/process-instance/${pi}`);
  if (r.status !== 204) throw new Error(`delete ${pi}: ${r.status} ${JSON.stringify(r.body)}`);
  return pi;
}
let addedSigners = 0;
const transfereesOf = new WeakMap<TestServer, Promise<void>>();
const votersOf = new WeakMap<TestServer, Promise<void>>();
/**
 * A call on the leading group's vote of a fresh plan approval (two members,
 * leader-rt and leader-rt2, a task each): `task` is leader-rt's.
 */
const onVote = (call: (p: { pi: string; task: string }) => Call) => async (f: Fixtures) => {
  if (!votersOf.has(f.s)) votersOf.set(f.s, Promise.all(['leader-rt', 'leader-rt2'].map((id) => makeUser(f.s, id, ['leading-group']))).then(() => undefined));
  await votersOf.get(f.s);
  const { pi, task } = await f.plan();
  await f.c.office.post(`/engine-rest/task/${task}/claim`, { userId: 'office-rt' });
  await f.c.office.post(`/engine-rest/task/${task}/complete`, { variables: draft });
  const [review] = await f.s.services.tasks.list({ processInstanceId: pi }, adminPrincipal);
  await f.c.office.post(`/engine-rest/task/${review!.id}/claim`, { userId: 'office-rt' });
  await f.c.office.post(`/engine-rest/task/${review!.id}/complete`, { variables: vars({ reviewResult: 'submit' }) });
  const votes = await f.s.services.tasks.list({ processInstanceId: pi }, adminPrincipal);
  return { ...call({ pi, task: votes.find((v) => v.assignee === 'leader-rt')!.id }), pi };
};
/** A call on a fresh external task, locked by `lockedBy` if given. */
const onExternal = (lockedBy: string | undefined, call: (e: { pi: string; id: string }) => Call) => async (f: Fixtures) => {
  const e = await f.external(lockedBy);
  return { ...call(e), pi: e.pi };
};

/** A failedExternalTask incident (its task failed down to no retries); `url` names it. */
async function incidentCall(f: Fixtures, url: (id: string) => string): Promise<{ url: string; pi: string }> {
  const e = await f.external('rt-worker');
  const failed = await f.c.worker.post(`/engine-rest/external-task/${e.id}/failure`, { workerId: 'rt-worker', errorMessage: '磁带库离线', retries: 0 });
  if (failed.status !== 204) throw new Error(JSON.stringify(failed.body));
  const [incident] = await f.s.db('incidents').where({ process_instance_id: e.pi });
  return { url: url(incident.id), pi: e.pi };
}

/** A plan-approval instance whose draft the office completed: it waits at reviewDraft. */
async function drafted(f: Fixtures): Promise<{ pi: string; task: string }> {
  const p = await f.plan();
  const done = await f.c.office.post(`/engine-rest/task/${p.task}/complete`, { variables: draft });
  if (done.status !== 204) throw new Error(JSON.stringify(done.body));
  const [task] = await f.s.services.tasks.list({ processInstanceId: p.pi }, adminPrincipal);
  return { pi: p.pi, task: task!.id };
}

const cases: Case[] = [
  { route: 'GET /engine-rest/version', as: 'office', wrong: null, make: async () => ({ url: '/version' }), trace: [] },
  { route: 'GET /engine-rest/engine', as: 'office', wrong: null, make: async () => ({ url: '/engine' }), trace: [] },
  // Deployments: administrators change, staff read.
  {
    route: 'POST /engine-rest/deployment/create', as: 'admin', wrong: 'office', trace: ['Create Deployment'],
    make: async () => ({ url: '/deployment/create', body: 'multipart' }),
  },
  { route: 'GET /engine-rest/deployment', as: 'office', wrong: 'worker', make: async () => ({ url: '/deployment' }), trace: ['Read Deployment'] },
  { route: 'GET /engine-rest/deployment/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/deployment/count' }), trace: ['Read Deployment'] },
  { route: 'GET /engine-rest/deployment/:id', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/deployment/${(await f.deployment()).id}` }), trace: ['Read Deployment'] },
  { route: 'GET /engine-rest/deployment/:id/resources', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/deployment/${(await f.deployment()).id}/resources` }), trace: ['Read Deployment'] },
  {
    route: 'GET /engine-rest/deployment/:id/resources/:resourceId', as: 'office', wrong: 'worker', trace: ['Read Deployment'],
    make: async (f) => { const d = await f.deployment(); return { url: `/deployment/${d.id}/resources/${d.resource}` }; },
  },
  {
    route: 'GET /engine-rest/deployment/:id/resources/:resourceId/data', as: 'office', wrong: 'worker', trace: ['Read Deployment'],
    make: async (f) => { const d = await f.deployment(); return { url: `/deployment/${d.id}/resources/${d.resource}/data` }; },
  },
  { route: 'DELETE /engine-rest/deployment/:id', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/deployment/${(await f.deployment()).id}?cascade=true` }), trace: ['Delete Deployment'] },
  // Definitions and starting.
  { route: 'GET /engine-rest/process-definition', as: 'office', wrong: 'worker', make: async () => ({ url: '/process-definition' }), trace: ['Read ProcessDefinition'] },
  { route: 'GET /engine-rest/process-definition/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/process-definition/count' }), trace: ['Read ProcessDefinition'] },
  {
    route: 'POST /engine-rest/deployment/:id/redeploy', as: 'admin', wrong: 'office', trace: ['Create Deployment'],
    make: async (f) => ({ url: `/deployment/${(await f.deployment()).id}/redeploy`, body: {} }),
  },
  {
    route: 'DELETE /engine-rest/process-definition/:id', as: 'admin', wrong: 'office', trace: ['Delete ProcessDefinition'],
    make: async (f) => ({ url: `/process-definition/${(await f.c.admin.get(`/engine-rest/process-definition/key/${await ownKey(f)}`)).body.id}` }),
  },
  { route: 'DELETE /engine-rest/process-definition/key/:key', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/process-definition/key/${await ownKey(f)}` }), trace: ['Delete ProcessDefinition'] },
  { route: 'GET /engine-rest/deployment/registered', as: 'office', wrong: 'worker', make: async () => ({ url: '/deployment/registered' }), trace: ['Read Deployment'] },
  { route: 'GET /engine-rest/process-definition/:id/diagram', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/process-definition/${(await f.deployment()).definition}/diagram` }), trace: ['Read ProcessDefinition'] },
  { route: 'GET /engine-rest/process-definition/key/:key/diagram', as: 'office', wrong: 'worker', make: async () => ({ url: `/process-definition/key/${PLAN}/diagram` }), trace: ['Read ProcessDefinition'] },
  {
    route: 'GET /engine-rest/process-definition/:id/static-called-process-definitions', as: 'office', wrong: 'worker', trace: ['Read ProcessDefinition'],
    make: async (f) => ({ url: `/process-definition/${(await f.deployment()).definition}/static-called-process-definitions` }),
  },
  {
    route: 'PUT /engine-rest/process-definition/:id/history-time-to-live', as: 'admin', wrong: 'office', trace: ['UpdateHistoryTimeToLive ProcessDefinition'],
    make: async (f) => ({ url: `/process-definition/${(await f.deployment()).definition}/history-time-to-live`, body: { historyTimeToLive: 30 } }),
  },
  {
    route: 'PUT /engine-rest/process-definition/key/:key/history-time-to-live', as: 'admin', wrong: 'office', trace: ['UpdateHistoryTimeToLive ProcessDefinition'],
    make: async (f) => ({ url: `/process-definition/key/${await ownKey(f)}/history-time-to-live`, body: { historyTimeToLive: 30 } }),
  },
  {
    route: 'PUT /engine-rest/decision-definition/:id/history-time-to-live', as: 'admin', wrong: 'office', trace: ['UpdateHistoryTimeToLive DecisionDefinition'],
    make: async (f) => ({ url: `/decision-definition/${(await decisions(f)).id}/history-time-to-live`, body: { historyTimeToLive: 30 } }),
  },
  {
    route: 'PUT /engine-rest/decision-definition/key/:key/history-time-to-live', as: 'admin', wrong: 'office', trace: ['UpdateHistoryTimeToLive DecisionDefinition'],
    make: async (f) => { await decisions(f); return { url: '/decision-definition/key/dish/history-time-to-live', body: { historyTimeToLive: 30 } }; },
  },
  { route: 'GET /engine-rest/process-definition/key/:key/xml', as: 'office', wrong: 'worker', make: async () => ({ url: `/process-definition/key/${PLAN}/xml` }), trace: ['Read ProcessDefinition'] },
  { route: 'GET /engine-rest/process-definition/:id/xml', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/process-definition/${(await f.deployment()).definition}/xml` }), trace: ['Read ProcessDefinition'] },
  { route: 'GET /engine-rest/process-definition/key/:key', as: 'office', wrong: 'worker', make: async () => ({ url: `/process-definition/key/${PLAN}` }), trace: ['Read ProcessDefinition'] },
  { route: 'GET /engine-rest/process-definition/:id', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/process-definition/${(await f.deployment()).definition}` }), trace: ['Read ProcessDefinition'] },
  // Monitors' statistics and reports: aggregates over every instance, administrators only.
  { route: 'GET /engine-rest/process-definition/statistics', as: 'admin', wrong: 'office', make: async () => ({ url: '/process-definition/statistics?incidents=true' }), trace: ['Read ProcessDefinition'] },
  { route: 'GET /engine-rest/process-definition/:id/statistics', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/process-definition/${(await f.deployment()).definition}/statistics?failedJobs=true` }), trace: ['Read ProcessDefinition'] },
  { route: 'GET /engine-rest/process-definition/key/:key/statistics', as: 'admin', wrong: 'office', make: async () => ({ url: `/process-definition/key/${PLAN}/statistics` }), trace: ['Read ProcessDefinition'] },
  { route: 'GET /engine-rest/history/process-definition/:id/statistics', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/history/process-definition/${(await f.deployment()).definition}/statistics?finished=true` }), trace: ['Read ProcessDefinition'] },
  { route: 'GET /engine-rest/history/process-instance/report', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/process-instance/report?reportType=duration&periodUnit=month' }), trace: ['Read ProcessInstance'] },
  { route: 'GET /engine-rest/history/task/report', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/task/report?reportType=count&groupBy=taskName' }), trace: ['Read Task'] },
  // The start form: only for who may start the process (network may not start the plan approval).
  { route: 'GET /engine-rest/process-definition/key/:key/form-variables', as: 'office', wrong: 'network', make: async () => ({ url: `/process-definition/key/${PLAN}/form-variables` }), trace: ['Read Variable'] },
  {
    route: 'GET /engine-rest/process-definition/:id/form-variables', as: 'office', wrong: 'network', trace: ['Read Variable'],
    make: async (f) => {
      const [def] = (await f.c.admin.get(`/engine-rest/process-definition?key=${PLAN}&latestVersion=true`)).body;
      return { url: `/process-definition/${def.id}/form-variables` };
    },
  },
  {
    route: 'POST /engine-rest/process-definition/key/:key/start', as: 'office', wrong: 'network', trace: ['Create ProcessInstance'],
    make: async () => ({ url: `/process-definition/key/${PLAN}/start`, body: { variables: vars({ title: '规划', planType: 'plan' }) } }),
  },
  {
    route: 'POST /engine-rest/process-definition/:id/start', as: 'office', wrong: 'worker', trace: ['Create ProcessInstance'],
    make: async (f) => {
      const [def] = (await f.c.admin.get(`/engine-rest/process-definition?key=${PLAN}`)).body;
      return { url: `/process-definition/${def.id}/start`, body: { variables: vars({ title: '规划', planType: 'plan' }) } };
    },
  },
  // Decisions (issue 15): read as process definitions are; evaluated by members of a role; every evaluation in history.
  { route: 'GET /engine-rest/decision-definition', as: 'office', wrong: 'worker', make: async () => ({ url: '/decision-definition' }), trace: ['Read DecisionDefinition'] },
  { route: 'GET /engine-rest/decision-definition/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/decision-definition/count' }), trace: ['Read DecisionDefinition'] },
  { route: 'GET /engine-rest/decision-definition/:id', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/decision-definition/${(await decisions(f)).id}` }), trace: ['Read DecisionDefinition'] },
  { route: 'GET /engine-rest/decision-definition/:id/xml', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/decision-definition/${(await decisions(f)).id}/xml` }), trace: ['Read DecisionDefinition'] },
  { route: 'GET /engine-rest/decision-definition/key/:key', as: 'office', wrong: 'worker', make: async (f) => (await decisions(f), { url: '/decision-definition/key/dish' }), trace: ['Read DecisionDefinition'] },
  { route: 'GET /engine-rest/decision-definition/key/:key/xml', as: 'office', wrong: 'worker', make: async (f) => (await decisions(f), { url: '/decision-definition/key/dish/xml' }), trace: ['Read DecisionDefinition'] },
  {
    route: 'GET /engine-rest/decision-definition/key/:key/tenant-id/:tenantId', as: 'office', wrong: 'worker', trace: ['Read DecisionDefinition'],
    make: async (f) => {
      await f.s.services.deployments.deploy({ ...oneResource('rt-tenant-dish.dmn', fixture('dmn-rest/dish.dmn')), tenantId: 'tenant-one' });
      return { url: '/decision-definition/key/dish/tenant-id/tenant-one' };
    },
  },
  {
    route: 'GET /engine-rest/decision-definition/key/:key/tenant-id/:tenantId/xml', as: 'office', wrong: 'worker', trace: ['Read DecisionDefinition'],
    make: async (f) => {
      await f.s.services.deployments.deploy({ ...oneResource('rt-tenant-dish.dmn', fixture('dmn-rest/dish.dmn')), tenantId: 'tenant-one' });
      return { url: '/decision-definition/key/dish/tenant-id/tenant-one/xml' };
    },
  },
  { route: 'POST /engine-rest/decision-definition/:id/evaluate', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/decision-definition/${(await decisions(f)).id}/evaluate`, body: dishInput }), trace: ['Evaluate DecisionDefinition'] },
  { route: 'POST /engine-rest/decision-definition/key/:key/evaluate', as: 'network', wrong: 'worker', make: async (f) => (await decisions(f), { url: '/decision-definition/key/dish/evaluate', body: dishInput }), trace: ['Evaluate DecisionDefinition'] },
  {
    route: 'POST /engine-rest/decision-definition/key/:key/tenant-id/:tenantId/evaluate', as: 'office', wrong: 'worker', trace: ['Evaluate DecisionDefinition'],
    make: async (f) => {
      await f.s.services.deployments.deploy({ ...oneResource('rt-tenant-dish.dmn', fixture('dmn-rest/dish.dmn')), tenantId: 'tenant-one' });
      return { url: '/decision-definition/key/dish/tenant-id/tenant-one/evaluate', body: dishInput };
    },
  },
  { route: 'GET /engine-rest/decision-requirements-definition', as: 'office', wrong: 'worker', make: async () => ({ url: '/decision-requirements-definition' }), trace: ['Read DecisionRequirementsDefinition'] },
  { route: 'GET /engine-rest/decision-requirements-definition/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/decision-requirements-definition/count' }), trace: ['Read DecisionRequirementsDefinition'] },
  { route: 'GET /engine-rest/decision-requirements-definition/:id', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/decision-requirements-definition/${(await decisions(f)).drd}` }), trace: ['Read DecisionRequirementsDefinition'] },
  { route: 'GET /engine-rest/decision-requirements-definition/:id/xml', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/decision-requirements-definition/${(await decisions(f)).drd}/xml` }), trace: ['Read DecisionRequirementsDefinition'] },
  { route: 'GET /engine-rest/decision-requirements-definition/key/:key', as: 'office', wrong: 'worker', make: async (f) => (await decisions(f), { url: '/decision-requirements-definition/key/dinner' }), trace: ['Read DecisionRequirementsDefinition'] },
  { route: 'GET /engine-rest/decision-requirements-definition/key/:key/xml', as: 'office', wrong: 'worker', make: async (f) => (await decisions(f), { url: '/decision-requirements-definition/key/dinner/xml' }), trace: ['Read DecisionRequirementsDefinition'] },
  {
    route: 'GET /engine-rest/decision-requirements-definition/key/:key/tenant-id/:tenantId', as: 'office', wrong: 'worker', trace: ['Read DecisionRequirementsDefinition'],
    make: async (f) => {
      await f.s.services.deployments.deploy({ ...oneResource('rt-tenant-dinner.dmn', fixture('dmn-rest/dinner.dmn')), tenantId: 'tenant-one' });
      return { url: '/decision-requirements-definition/key/dinner/tenant-id/tenant-one' };
    },
  },
  {
    route: 'GET /engine-rest/decision-requirements-definition/key/:key/tenant-id/:tenantId/xml', as: 'office', wrong: 'worker', trace: ['Read DecisionRequirementsDefinition'],
    make: async (f) => {
      await f.s.services.deployments.deploy({ ...oneResource('rt-tenant-dinner.dmn', fixture('dmn-rest/dinner.dmn')), tenantId: 'tenant-one' });
      return { url: '/decision-requirements-definition/key/dinner/tenant-id/tenant-one/xml' };
    },
  },
  // Diagrams (the dinner fixture is deployed without an image: 204) and DRD statistics.
  { route: 'GET /engine-rest/decision-definition/:id/diagram', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/decision-definition/${(await decisions(f)).id}/diagram` }), trace: ['Read DecisionDefinition'] },
  { route: 'GET /engine-rest/decision-definition/key/:key/diagram', as: 'office', wrong: 'worker', make: async (f) => (await decisions(f), { url: '/decision-definition/key/dish/diagram' }), trace: ['Read DecisionDefinition'] },
  {
    route: 'GET /engine-rest/decision-definition/key/:key/tenant-id/:tenantId/diagram', as: 'office', wrong: 'worker', trace: ['Read DecisionDefinition'],
    make: async (f) => {
      await f.s.services.deployments.deploy({ ...oneResource('rt-tenant-dish.dmn', fixture('dmn-rest/dish.dmn')), tenantId: 'tenant-one' });
      return { url: '/decision-definition/key/dish/tenant-id/tenant-one/diagram' };
    },
  },
  { route: 'GET /engine-rest/decision-requirements-definition/:id/diagram', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/decision-requirements-definition/${(await decisions(f)).drd}/diagram` }), trace: ['Read DecisionRequirementsDefinition'] },
  { route: 'GET /engine-rest/decision-requirements-definition/key/:key/diagram', as: 'office', wrong: 'worker', make: async (f) => (await decisions(f), { url: '/decision-requirements-definition/key/dinner/diagram' }), trace: ['Read DecisionRequirementsDefinition'] },
  {
    route: 'GET /engine-rest/decision-requirements-definition/key/:key/tenant-id/:tenantId/diagram', as: 'office', wrong: 'worker', trace: ['Read DecisionRequirementsDefinition'],
    make: async (f) => {
      await f.s.services.deployments.deploy({ ...oneResource('rt-tenant-dinner.dmn', fixture('dmn-rest/dinner.dmn')), tenantId: 'tenant-one' });
      return { url: '/decision-requirements-definition/key/dinner/tenant-id/tenant-one/diagram' };
    },
  },
  {
    route: 'GET /engine-rest/history/decision-requirements-definition/:id/statistics', as: 'office', wrong: 'worker', trace: ['Read DecisionRequirementsDefinition'],
    make: async (f) => ({ url: `/history/decision-requirements-definition/${(await decisions(f)).drd}/statistics` }),
  },
  { route: 'GET /engine-rest/history/decision-instance', as: 'office', wrong: 'worker', make: async () => ({ url: '/history/decision-instance?includeInputs=true&includeOutputs=true' }), trace: ['Read DecisionInstance'] },
  {
    route: 'GET /engine-rest/history/decision-instance/:id', as: 'office', wrong: 'network', trace: ['Read DecisionInstance'],
    make: async (f) => {
      await f.c.office.post(`/engine-rest/decision-definition/${(await decisions(f)).id}/evaluate`, dishInput);
      const [row] = await f.s.db('history_decision_instances').where({ user_id: 'office-rt' }).orderBy('evaluation_time', 'desc').limit(1);
      return { url: `/history/decision-instance/${row.id}?includeInputs=true` };
    },
  },
  { route: 'GET /engine-rest/history/decision-instance/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/history/decision-instance/count' }), trace: ['Read DecisionInstance'] },
  // Running instances and their variables: those who work on them.
  { route: 'GET /engine-rest/process-instance', as: 'office', wrong: 'worker', make: async () => ({ url: '/process-instance' }), trace: ['Read ProcessInstance'] },
  { route: 'POST /engine-rest/process-instance', as: 'office', wrong: 'worker', make: async () => ({ url: '/process-instance', body: {} }), trace: ['Read ProcessInstance'] },
  { route: 'GET /engine-rest/process-instance/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/process-instance/count' }), trace: ['Read ProcessInstance'] },
  { route: 'POST /engine-rest/process-instance/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/process-instance/count', body: {} }), trace: ['Read ProcessInstance'] },
  { route: 'GET /engine-rest/process-instance/:id', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/process-instance/${p.pi}` })), trace: ['Read ProcessInstance'] },
  { route: 'POST /engine-rest/process-instance/:id/terminate', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/process-instance/${p.pi}/terminate`, body: { reason: '终止' } })), trace: ['Terminate ProcessInstance'] },
  { route: 'DELETE /engine-rest/process-instance/:id', as: 'admin', wrong: 'office', make: onPlan((p) => ({ url: `/process-instance/${p.pi}` })), trace: ['Delete ProcessInstance'] },
  { route: 'GET /engine-rest/process-instance/:id/variables', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/process-instance/${p.pi}/variables` })), trace: ['Read Variable'] },
  {
    route: 'POST /engine-rest/process-instance/:id/variables', as: 'office', wrong: 'network', trace: ['ModifyVariables ProcessInstance'],
    make: onPlan((p) => ({ url: `/process-instance/${p.pi}/variables`, body: { modifications: vars({ note: '备注' }) } })),
  },
  { route: 'GET /engine-rest/process-instance/:id/variables/:name', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/process-instance/${p.pi}/variables/title` })), trace: ['Read Variable'] },
  {
    route: 'GET /engine-rest/process-instance/:id/variables/:name/data', as: 'office', wrong: 'network', trace: ['Read Variable'],
    make: async (f) => {
      const { pi } = await f.plan();
      await f.c.admin.put(`/engine-rest/process-instance/${pi}/variables/manifest`, { type: 'Bytes', value: b64 });
      return { url: `/process-instance/${pi}/variables/manifest/data`, pi };
    },
  },
  {
    route: 'PUT /engine-rest/process-instance/:id/variables/:name', as: 'office', wrong: 'network', trace: ['ModifyVariables ProcessInstance'],
    make: onPlan((p) => ({ url: `/process-instance/${p.pi}/variables/note`, body: { value: '备注', type: 'String' } })),
  },
  { route: 'DELETE /engine-rest/process-instance/:id/variables/:name', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/process-instance/${p.pi}/variables/title` })), trace: ['ModifyVariables ProcessInstance'] },
  // Suspension (issue 16.3): the office and administrators for instances, administrators only for definitions.
  { route: 'PUT /engine-rest/process-instance/:id/suspended', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/process-instance/${p.pi}/suspended`, body: { suspended: true } })), trace: ['Suspend ProcessInstance'] },
  { route: 'PUT /engine-rest/process-instance/suspended', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: '/process-instance/suspended', body: { processInstanceIds: [p.pi], suspended: true } })), trace: ['Suspend ProcessInstance'] },
  { route: 'PUT /engine-rest/process-definition/:id/suspended', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/process-definition/${(await f.deployment()).definition}/suspended`, body: { suspended: true } }), trace: ['SuspendProcessDefinition ProcessDefinition'] },
  { route: 'PUT /engine-rest/process-definition/key/:key/suspended', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/process-definition/key/${await ownKey(f)}/suspended`, body: { suspended: true } }), trace: ['SuspendProcessDefinition ProcessDefinition'] },
  { route: 'PUT /engine-rest/process-definition/suspended', as: 'admin', wrong: 'office', make: async (f) => ({ url: '/process-definition/suspended', body: { processDefinitionKey: await ownKey(f), suspended: true } }), trace: ['SuspendProcessDefinition ProcessDefinition'] },
  { route: 'GET /engine-rest/process-instance/:id/activity-instances', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/process-instance/${p.pi}/activity-instances` })), trace: ['Read ActivityInstance'] },
  // Tasks: the role they are offered to.
  { route: 'GET /engine-rest/task', as: 'office', wrong: 'worker', make: async () => ({ url: '/task' }), trace: ['Read Task'] },
  { route: 'POST /engine-rest/task', as: 'office', wrong: 'worker', make: async () => ({ url: '/task', body: { candidateGroup: 'office' } }), trace: ['Read Task'] },
  { route: 'POST /engine-rest/task/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/task/count', body: {} }), trace: ['Read Task'] },
  { route: 'GET /engine-rest/task/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/task/count' }), trace: ['Read Task'] },
  { route: 'GET /engine-rest/task/:id', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}` })), trace: ['Read Task'] },
  { route: 'POST /engine-rest/task/:id/claim', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/claim`, body: { userId: 'office-rt' } })), trace: ['Claim Task'] },
  {
    route: 'POST /engine-rest/task/:id/unclaim', as: 'office', wrong: 'network', trace: ['Unclaim Task'],
    make: async (f) => {
      const { pi, task } = await f.plan();
      await f.c.office.post(`/engine-rest/task/${task}/claim`, { userId: 'office-rt' });
      return { url: `/task/${task}/unclaim`, pi };
    },
  },
  { route: 'POST /engine-rest/task/:id/complete', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/complete`, body: { variables: draft } })), trace: ['Complete Task'] },
  {
    route: 'GET /engine-rest/task/:id/deployed-form', as: 'network', wrong: 'office', trace: ['Read Form'],
    make: async (f) => {
      const { instance } = await f.s.services.instances.startByKey('with-form', { variables: {} }, adminPrincipal);
      const [task] = await f.s.services.tasks.list({ processInstanceId: instance.id }, adminPrincipal);
      return { url: `/task/${task.id}/deployed-form`, pi: instance.id };
    },
  },
  // Forms (form keys, generated HTML, deployed forms, submit-form): as the task or the start allows.
  { route: 'GET /engine-rest/task/:id/form', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/form` })), trace: ['Read Form'] },
  { route: 'GET /engine-rest/task/:id/rendered-form', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/rendered-form` })), trace: ['Read Form'] },
  { route: 'POST /engine-rest/task/:id/submit-form', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/submit-form`, body: { variables: draft } })), trace: ['Complete Task'] },
  { route: 'GET /engine-rest/process-definition/key/:key/startForm', as: 'office', wrong: 'network', make: async () => ({ url: `/process-definition/key/${PLAN}/startForm` }), trace: ['Read Form'] },
  { route: 'GET /engine-rest/process-definition/:id/startForm', as: 'office', wrong: 'network', make: async (f) => ({ url: `/process-definition/${await latestId(f, PLAN)}/startForm` }), trace: ['Read Form'] },
  { route: 'GET /engine-rest/process-definition/key/:key/rendered-form', as: 'office', wrong: 'network', make: async () => ({ url: `/process-definition/key/${PLAN}/rendered-form` }), trace: ['Read Form'] },
  { route: 'GET /engine-rest/process-definition/:id/rendered-form', as: 'office', wrong: 'network', make: async (f) => ({ url: `/process-definition/${await latestId(f, PLAN)}/rendered-form` }), trace: ['Read Form'] },
  // with-form's start event names its Camunda Form here; any person may start it, no machine.
  { route: 'GET /engine-rest/process-definition/key/:key/deployed-start-form', as: 'office', wrong: 'worker', make: async () => ({ url: '/process-definition/key/with-form/deployed-start-form' }), trace: ['Read Form'] },
  { route: 'GET /engine-rest/process-definition/:id/deployed-start-form', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/process-definition/${await latestId(f, 'with-form')}/deployed-start-form` }), trace: ['Read Form'] },
  {
    route: 'POST /engine-rest/process-definition/key/:key/submit-form', as: 'office', wrong: 'network', trace: ['Create ProcessInstance'],
    make: async () => ({ url: `/process-definition/key/${PLAN}/submit-form`, body: { variables: vars({ title: '规划', planType: 'plan' }) } }),
  },
  {
    route: 'POST /engine-rest/process-definition/:id/submit-form', as: 'office', wrong: 'network', trace: ['Create ProcessInstance'],
    make: async (f) => ({ url: `/process-definition/${await latestId(f, PLAN)}/submit-form`, body: { variables: vars({ title: '规划', planType: 'plan' }) } }),
  },
  // Identity links: read by who sees the task; candidates changed by administrators only.
  { route: 'GET /engine-rest/task/:id/identity-links', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/identity-links` })), trace: ['Read Task'] },
  { route: 'POST /engine-rest/task/:id/identity-links', as: 'admin', wrong: 'office', make: onPlan((p) => ({ url: `/task/${p.task}/identity-links`, body: { userId: 'office-rt', type: 'candidate' } })), trace: ['AddIdentityLink Task'] },
  { route: 'POST /engine-rest/task/:id/identity-links/delete', as: 'admin', wrong: 'office', make: onPlan((p) => ({ url: `/task/${p.task}/identity-links/delete`, body: { groupId: 'office', type: 'candidate' } })), trace: ['DeleteIdentityLink Task'] },
  {
    route: 'POST /engine-rest/task/:id/bpmnError', as: 'office', wrong: 'network', trace: ['BpmnError Task'],
    make: async (f) => {
      const { instance } = await f.s.services.instances.startByKey('task-error', { variables: {} }, adminPrincipal);
      const [task] = await f.s.services.tasks.list({ processInstanceId: instance.id }, adminPrincipal);
      return { url: `/task/${task.id}/bpmnError`, body: { errorCode: 'REJECTED' }, pi: instance.id };
    },
  },
  {
    route: 'POST /engine-rest/task/:id/bpmnEscalation', as: 'office', wrong: 'network', trace: ['BpmnEscalation Task'],
    make: async (f) => {
      const { instance } = await f.s.services.instances.startByKey('task-escalation', { variables: {} }, adminPrincipal);
      const [task] = await f.s.services.tasks.list({ processInstanceId: instance.id, taskDefinitionKey: 'review' }, adminPrincipal);
      return { url: `/task/${task.id}/bpmnEscalation`, body: { escalationCode: 'HELP' }, pi: instance.id };
    },
  },
  { route: 'GET /engine-rest/task/:id/form-variables', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/form-variables` })), trace: ['Read Variable'] },
  { route: 'POST /engine-rest/task/:id/assignee', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/assignee`, body: { userId: 'office-rt' } })), trace: ['SetAssignee Task'] },
  {
    route: 'POST /engine-rest/task/:id/transfer', as: 'office', wrong: 'network', trace: ['Transfer Task'],
    make: async (f) => {
      // A colleague of the office to hand it to.
      if (!transfereesOf.has(f.s)) transfereesOf.set(f.s, makeUser(f.s, 'office-rt2', ['office']).then(() => undefined));
      await transfereesOf.get(f.s);
      return onPlan((p) => ({ url: `/task/${p.task}/transfer`, body: { userId: 'office-rt2' } }))(f);
    },
  },
  {
    route: 'POST /engine-rest/task/:id/signers', as: 'office', wrong: 'network', trace: ['AddSigner Task'],
    make: async (f) => {
      const call = await onVote((p) => ({ url: `/task/${p.task}/signers` }))(f);
      // A member who joined after the vote opened.
      const userId = `leader-add-${++addedSigners}`;
      await makeUser(f.s, userId, ['leading-group']);
      return { ...call, body: { userId } };
    },
  },
  { route: 'DELETE /engine-rest/task/:id/signers/:userId', as: 'office', wrong: 'network', make: onVote((p) => ({ url: `/task/${p.task}/signers/leader-rt2` })), trace: ['RemoveSigner Task'] },
  { route: 'POST /engine-rest/task/:id/delegate', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/delegate`, body: { userId: 'office-rt' } })), trace: ['Delegate Task'] },
  {
    route: 'POST /engine-rest/task/:id/resolve', as: 'office', wrong: 'network', trace: ['Resolve Task'],
    make: async (f) => {
      const { pi, task } = await f.plan();
      await f.c.admin.post(`/engine-rest/task/${task}/delegate`, { userId: 'office-rt' });
      return { url: `/task/${task}/resolve`, body: { variables: draft }, pi };
    },
  },
  { route: 'PUT /engine-rest/task/:id', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}`, body: { name: '起草规划', priority: 60 } })), trace: ['Update Task'] },
  { route: 'GET /engine-rest/task/:id/variables', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/variables` })), trace: ['Read Variable'] },
  { route: 'POST /engine-rest/task/:id/variables', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/variables`, body: { modifications: vars({ note: '备注' }) } })), trace: ['ModifyVariables Task'] },
  { route: 'GET /engine-rest/task/:id/variables/:name', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/variables/title` })), trace: ['Read Variable'] },
  {
    route: 'GET /engine-rest/task/:id/variables/:name/data', as: 'office', wrong: 'network', trace: ['Read Variable'],
    make: async (f) => {
      const { pi, task } = await f.plan();
      await f.c.admin.put(`/engine-rest/process-instance/${pi}/variables/manifest`, { type: 'Bytes', value: b64 });
      return { url: `/task/${task}/variables/manifest/data`, pi };
    },
  },
  { route: 'PUT /engine-rest/task/:id/variables/:name', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/variables/note`, body: { value: '备注' } })), trace: ['ModifyVariables Task'] },
  { route: 'DELETE /engine-rest/task/:id/variables/:name', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/variables/title` })), trace: ['ModifyVariables Task'] },
  { route: 'GET /engine-rest/task/:id/localVariables', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/localVariables` })), trace: ['Read Variable'] },
  { route: 'GET /engine-rest/task/:id/localVariables/:name', as: 'office', wrong: 'network', make: onTaskNote((p) => ({ url: `/task/${p.task}/localVariables/note` })), trace: ['Read Variable'] },
  {
    route: 'GET /engine-rest/task/:id/localVariables/:name/data', as: 'office', wrong: 'network', trace: ['Read Variable'],
    make: async (f) => {
      const { pi, task } = await f.plan();
      await f.c.admin.put(`/engine-rest/task/${task}/localVariables/scan`, { type: 'Bytes', value: b64 });
      return { url: `/task/${task}/localVariables/scan/data`, pi };
    },
  },
  { route: 'POST /engine-rest/task/:id/localVariables', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/localVariables`, body: { modifications: vars({ note: '备注' }) } })), trace: ['ModifyVariables Task'] },
  { route: 'PUT /engine-rest/task/:id/localVariables/:name', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/localVariables/note`, body: { value: '备注' } })), trace: ['ModifyVariables Task'] },
  { route: 'DELETE /engine-rest/task/:id/localVariables/:name', as: 'office', wrong: 'network', make: onTaskNote((p) => ({ url: `/task/${p.task}/localVariables/note` })), trace: ['ModifyVariables Task'] },
  { route: 'GET /engine-rest/execution/:id/localVariables', as: 'office', wrong: 'network', make: onExecution((x) => ({ url: `/execution/${x.execution}/localVariables` })), trace: ['Read Variable'] },
  { route: 'GET /engine-rest/execution/:id/localVariables/:name', as: 'office', wrong: 'network', make: onExecution((x) => ({ url: `/execution/${x.execution}/localVariables/note` }), true), trace: ['Read Variable'] },
  { route: 'POST /engine-rest/execution/:id/localVariables', as: 'office', wrong: 'network', make: onExecution((x) => ({ url: `/execution/${x.execution}/localVariables`, body: { modifications: vars({ note: '备注' }) } })), trace: ['ModifyVariables Execution'] },
  { route: 'PUT /engine-rest/execution/:id/localVariables/:name', as: 'office', wrong: 'network', make: onExecution((x) => ({ url: `/execution/${x.execution}/localVariables/note`, body: { value: '备注' } })), trace: ['ModifyVariables Execution'] },
  { route: 'DELETE /engine-rest/execution/:id/localVariables/:name', as: 'office', wrong: 'network', make: onExecution((x) => ({ url: `/execution/${x.execution}/localVariables/note` }), true), trace: ['ModifyVariables Execution'] },
  { route: 'POST /engine-rest/execution/:id/localVariables/:name/data', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/execution/${p.pi}/localVariables/scan/data`, body: 'multipart' })), trace: ['ModifyVariables ProcessInstance'] },
  // Executions and event subscriptions: read as the instances are; moved on and marked by administrators.
  { route: 'GET /engine-rest/execution', as: 'office', wrong: 'worker', make: async () => ({ url: '/execution' }), trace: ['Read Execution'] },
  { route: 'POST /engine-rest/execution', as: 'office', wrong: 'worker', make: async () => ({ url: '/execution', body: {} }), trace: ['Read Execution'] },
  { route: 'GET /engine-rest/execution/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/execution/count' }), trace: ['Read Execution'] },
  { route: 'POST /engine-rest/execution/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/execution/count', body: {} }), trace: ['Read Execution'] },
  { route: 'GET /engine-rest/execution/:id', as: 'office', wrong: 'network', make: onExecution((x) => ({ url: `/execution/${x.execution}` })), trace: ['Read Execution'] },
  { route: 'POST /engine-rest/execution/:id/signal', as: 'admin', wrong: 'office', make: onWaits((w) => ({ url: `/execution/${w.go}/signal`, body: {} })), trace: ['Signal Execution'] },
  { route: 'GET /engine-rest/execution/:id/messageSubscriptions/:messageName', as: 'office', wrong: 'network', make: onWaits((w) => ({ url: `/execution/${w.pay}/messageSubscriptions/exec-pay` })), trace: ['Read EventSubscription'] },
  {
    route: 'POST /engine-rest/execution/:id/messageSubscriptions/:messageName/trigger', as: 'admin', wrong: 'office', trace: ['TriggerMessage Execution'],
    make: onWaits((w) => ({ url: `/execution/${w.pay}/messageSubscriptions/exec-pay/trigger`, body: { variables: vars({ paid: 'yes' }) } })),
  },
  { route: 'POST /engine-rest/execution/:id/create-incident', as: 'admin', wrong: 'office', make: onExecution((x) => ({ url: `/execution/${x.execution}/create-incident`, body: { incidentType: 'custom' } })), trace: ['CreateIncident Incident'] },
  { route: 'GET /engine-rest/event-subscription', as: 'office', wrong: 'worker', make: async () => ({ url: '/event-subscription?eventType=message' }), trace: ['Read EventSubscription'] },
  { route: 'GET /engine-rest/event-subscription/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/event-subscription/count?eventType=signal' }), trace: ['Read EventSubscription'] },
  { route: 'GET /engine-rest/task/:id/comment', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/comment` })), trace: ['Read Comment'] },
  { route: 'POST /engine-rest/task/:id/comment/create', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/comment/create`, body: { message: '请补充' } })), trace: ['AddComment Task'] },
  // Comments changed and deleted (issue 18 item 4): the author or an administrator; all at once only administrators.
  { route: 'GET /engine-rest/task/:id/comment/:commentId', as: 'office', wrong: 'network', make: onComment((p) => ({ url: `/task/${p.task}/comment/${p.comment}` })), trace: ['Read Comment'] },
  { route: 'PUT /engine-rest/task/:id/comment', as: 'office', wrong: 'network', make: onComment((p) => ({ url: `/task/${p.task}/comment`, body: { id: p.comment, message: '请补充附件' } })), trace: ['UpdateComment Task'] },
  { route: 'DELETE /engine-rest/task/:id/comment/:commentId', as: 'office', wrong: 'network', make: onComment((p) => ({ url: `/task/${p.task}/comment/${p.comment}` })), trace: ['DeleteComment Task'] },
  { route: 'DELETE /engine-rest/task/:id/comment', as: 'admin', wrong: 'office', make: onComment((p) => ({ url: `/task/${p.task}/comment` })), trace: ['DeleteComment Task'] },
  { route: 'GET /engine-rest/process-instance/:id/comment', as: 'office', wrong: 'network', make: onComment((p) => ({ url: `/process-instance/${p.pi}/comment` })), trace: ['Read Comment'] },
  { route: 'PUT /engine-rest/process-instance/:id/comment', as: 'office', wrong: 'network', make: onComment((p) => ({ url: `/process-instance/${p.pi}/comment`, body: { id: p.comment, message: '请补充附件' } })), trace: ['UpdateComment ProcessInstance'] },
  { route: 'DELETE /engine-rest/process-instance/:id/comment/:commentId', as: 'office', wrong: 'network', make: onComment((p) => ({ url: `/process-instance/${p.pi}/comment/${p.comment}` })), trace: ['DeleteComment ProcessInstance'] },
  { route: 'DELETE /engine-rest/process-instance/:id/comment', as: 'admin', wrong: 'office', make: onComment((p) => ({ url: `/process-instance/${p.pi}/comment` })), trace: ['DeleteComment ProcessInstance'] },
  // Attachments: who sees the task reads and adds; who added one (or an administrator) deletes it.
  { route: 'GET /engine-rest/task/:id/attachment', as: 'office', wrong: 'network', make: onAttachment((p) => ({ url: `/task/${p.task}/attachment` })), trace: ['Read Attachment'] },
  { route: 'POST /engine-rest/task/:id/attachment/create', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/attachment/create`, body: 'multipart' })), trace: ['AddAttachment Task'] },
  { route: 'GET /engine-rest/task/:id/attachment/:attachmentId', as: 'office', wrong: 'network', make: onAttachment((p) => ({ url: `/task/${p.task}/attachment/${p.attachment}` })), trace: ['Read Attachment'] },
  { route: 'GET /engine-rest/task/:id/attachment/:attachmentId/data', as: 'office', wrong: 'network', make: onAttachment((p) => ({ url: `/task/${p.task}/attachment/${p.attachment}/data` })), trace: ['Read Attachment'] },
  { route: 'DELETE /engine-rest/task/:id/attachment/:attachmentId', as: 'office', wrong: 'network', make: onAttachment((p) => ({ url: `/task/${p.task}/attachment/${p.attachment}` })), trace: ['DeleteAttachment Task'] },
  // Binary variable uploads: as the JSON routes that set a variable.
  { route: 'POST /engine-rest/task/:id/variables/:name/data', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/variables/scan/data`, body: 'multipart' })), trace: ['ModifyVariables Task'] },
  { route: 'POST /engine-rest/task/:id/localVariables/:name/data', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/localVariables/scan/data`, body: 'multipart' })), trace: ['ModifyVariables Task'] },
  { route: 'POST /engine-rest/process-instance/:id/variables/:name/data', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/process-instance/${p.pi}/variables/scan/data`, body: 'multipart' })), trace: ['ModifyVariables ProcessInstance'] },
  // The candidate-group report counts every open task: administrators and the office.
  { route: 'GET /engine-rest/task/report/candidate-group-count', as: 'office', wrong: 'network', make: async () => ({ url: '/task/report/candidate-group-count' }), trace: ['Read Task'] },
  // History: what one may see, filtered; machines have none.
  { route: 'GET /engine-rest/history/process-instance', as: 'office', wrong: 'worker', make: async () => ({ url: '/history/process-instance' }), trace: ['Read ProcessInstance'] },
  { route: 'POST /engine-rest/history/process-instance', as: 'office', wrong: 'worker', make: async () => ({ url: '/history/process-instance', body: {} }), trace: ['Read ProcessInstance'] },
  { route: 'GET /engine-rest/history/process-instance/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/history/process-instance/count' }), trace: ['Read ProcessInstance'] },
  { route: 'POST /engine-rest/history/process-instance/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/history/process-instance/count', body: {} }), trace: ['Read ProcessInstance'] },
  { route: 'GET /engine-rest/history/task', as: 'office', wrong: 'worker', make: async () => ({ url: '/history/task' }), trace: ['Read Task'] },
  { route: 'POST /engine-rest/history/task', as: 'office', wrong: 'worker', make: async () => ({ url: '/history/task', body: {} }), trace: ['Read Task'] },
  { route: 'GET /engine-rest/history/variable-instance', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: `/history/variable-instance?processInstanceId=${p.pi}` })), trace: ['Read Variable'] },
  { route: 'POST /engine-rest/history/variable-instance', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: '/history/variable-instance', body: { processInstanceId: p.pi } })), trace: ['Read Variable'] },
  // History resources (issue 18 item 9): read as the lists are; deleting history is for administrators, of finished instances only.
  { route: 'GET /engine-rest/history/variable-instance/count', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: `/history/variable-instance/count?processInstanceId=${p.pi}` })), trace: ['Read Variable'] },
  { route: 'POST /engine-rest/history/variable-instance/count', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: '/history/variable-instance/count', body: { processInstanceId: p.pi } })), trace: ['Read Variable'] },
  { route: 'GET /engine-rest/history/variable-instance/:id', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/history/variable-instance/${p.pi}:title` })), trace: ['Read Variable'] },
  {
    route: 'GET /engine-rest/history/variable-instance/:id/data', as: 'office', wrong: 'network', trace: ['Read Variable'],
    make: async (f) => {
      const { pi } = await f.plan();
      await f.c.admin.put(`/engine-rest/process-instance/${pi}/variables/manifest`, { type: 'Bytes', value: b64 });
      return { url: `/history/variable-instance/${pi}:manifest/data`, pi };
    },
  },
  { route: 'DELETE /engine-rest/history/variable-instance/:id', as: 'admin', wrong: 'office', make: async (f) => { const pi = await finishedPlan(f); return { url: `/history/variable-instance/${pi}:title`, pi }; }, trace: ['Delete Variable'] },
  { route: 'DELETE /engine-rest/history/process-instance/:id/variable-instances', as: 'admin', wrong: 'office', make: async (f) => { const pi = await finishedPlan(f); return { url: `/history/process-instance/${pi}/variable-instances`, pi }; }, trace: ['Delete Variable'] },
  { route: 'GET /engine-rest/history/process-instance/:id', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/history/process-instance/${p.pi}` })), trace: ['Read ProcessInstance'] },
  { route: 'DELETE /engine-rest/history/process-instance/:id', as: 'admin', wrong: 'office', make: async (f) => { const pi = await finishedPlan(f); return { url: `/history/process-instance/${pi}`, pi }; }, trace: ['Delete ProcessInstance'] },
  { route: 'GET /engine-rest/history/identity-link-log', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: `/history/identity-link-log?taskId=${p.task}`, pi: p.pi })), trace: ['Read IdentityLinkLog'] },
  { route: 'GET /engine-rest/history/identity-link-log/count', as: 'office', wrong: 'worker', make: async (f) => ({ url: `/history/identity-link-log/count?taskId=${(await f.plan()).task}` }), trace: ['Read IdentityLinkLog'] },
  { route: 'GET /engine-rest/history/external-task-log', as: 'admin', wrong: 'worker', make: async (f) => { const e = await f.external(); return { url: `/history/external-task-log?processInstanceId=${e.pi}`, pi: e.pi }; }, trace: ['Read ExternalTaskLog'] },
  { route: 'POST /engine-rest/history/external-task-log', as: 'admin', wrong: 'worker', make: async (f) => { const e = await f.external(); return { url: '/history/external-task-log', body: { processInstanceId: e.pi }, pi: e.pi }; }, trace: ['Read ExternalTaskLog'] },
  { route: 'GET /engine-rest/history/external-task-log/count', as: 'admin', wrong: 'worker', make: async (f) => { const e = await f.external(); return { url: `/history/external-task-log/count?processInstanceId=${e.pi}`, pi: e.pi }; }, trace: ['Read ExternalTaskLog'] },
  { route: 'POST /engine-rest/history/external-task-log/count', as: 'admin', wrong: 'worker', make: async (f) => { const e = await f.external(); return { url: '/history/external-task-log/count', body: { processInstanceId: e.pi }, pi: e.pi }; }, trace: ['Read ExternalTaskLog'] },
  {
    route: 'GET /engine-rest/history/external-task-log/:id', as: 'admin', wrong: 'office', trace: ['Read ExternalTaskLog'],
    make: async (f) => { const e = await f.external(); const [row] = await f.s.db('external_task_log').where({ external_task_id: e.id }); return { url: `/history/external-task-log/${row.id}`, pi: e.pi }; },
  },
  {
    route: 'GET /engine-rest/history/external-task-log/:id/error-details', as: 'admin', wrong: 'office', trace: ['Read ExternalTaskLog'],
    make: async (f) => { const e = await f.external(); const [row] = await f.s.db('external_task_log').where({ external_task_id: e.id }); return { url: `/history/external-task-log/${row.id}/error-details`, pi: e.pi }; },
  },
  { route: 'GET /engine-rest/history/task/count', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: `/history/task/count?processInstanceId=${p.pi}` })), trace: ['Read Task'] },
  { route: 'POST /engine-rest/history/task/count', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: '/history/task/count', body: { processInstanceId: p.pi } })), trace: ['Read Task'] },
  { route: 'GET /engine-rest/history/detail', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: `/history/detail?processInstanceId=${p.pi}` })), trace: ['Read Variable'] },
  { route: 'POST /engine-rest/history/detail', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: '/history/detail', body: { processInstanceId: p.pi } })), trace: ['Read Variable'] },
  { route: 'GET /engine-rest/history/detail/count', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: `/history/detail/count?processInstanceId=${p.pi}` })), trace: ['Read Variable'] },
  {
    route: 'GET /engine-rest/history/detail/:id', as: 'office', wrong: 'network', trace: ['Read Variable'],
    make: async (f) => {
      const { pi } = await f.plan();
      const [row] = await f.s.db('history_details').where({ process_instance_id: pi, variable_name: 'title' });
      return { url: `/history/detail/${row.id}`, pi };
    },
  },
  {
    route: 'GET /engine-rest/history/detail/:id/data', as: 'office', wrong: 'network', trace: ['Read Variable'],
    make: async (f) => {
      const { pi } = await f.plan();
      await f.c.admin.put(`/engine-rest/process-instance/${pi}/variables/manifest`, { type: 'Bytes', value: b64 });
      const [row] = await f.s.db('history_details').where({ process_instance_id: pi, variable_name: 'manifest' });
      return { url: `/history/detail/${row.id}/data`, pi };
    },
  },
  // Runtime variable instances (issue 18 item 7): an outsider's query of another's instance finds nothing, by id is 404.
  { route: 'GET /engine-rest/variable-instance', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: `/variable-instance?processInstanceIdIn=${p.pi}` })), trace: ['Read Variable'] },
  { route: 'POST /engine-rest/variable-instance', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: '/variable-instance', body: { processInstanceIdIn: [p.pi] } })), trace: ['Read Variable'] },
  { route: 'GET /engine-rest/variable-instance/count', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: `/variable-instance/count?processInstanceIdIn=${p.pi}` })), trace: ['Read Variable'] },
  { route: 'POST /engine-rest/variable-instance/count', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: '/variable-instance/count', body: { processInstanceIdIn: [p.pi] } })), trace: ['Read Variable'] },
  { route: 'GET /engine-rest/variable-instance/:id', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/variable-instance/${p.pi}:title` })), trace: ['Read Variable'] },
  {
    route: 'GET /engine-rest/variable-instance/:id/data', as: 'office', wrong: 'network', trace: ['Read Variable'],
    make: async (f) => {
      const { pi } = await f.plan();
      await f.c.admin.put(`/engine-rest/process-instance/${pi}/variables/manifest`, { type: 'Bytes', value: b64 });
      return { url: `/variable-instance/${pi}:manifest/data`, pi };
    },
  },
  { route: 'GET /engine-rest/history/activity-instance', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: `/history/activity-instance?processInstanceId=${p.pi}` })), trace: ['Read ActivityInstance'] },
  { route: 'POST /engine-rest/history/activity-instance', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: '/history/activity-instance', body: { processInstanceId: p.pi } })), trace: ['Read ActivityInstance'] },
  { route: 'GET /engine-rest/history/activity-instance/count', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: `/history/activity-instance/count?processInstanceId=${p.pi}` })), trace: ['Read ActivityInstance'] },
  { route: 'POST /engine-rest/history/activity-instance/count', as: 'office', wrong: 'worker', make: onPlan((p) => ({ url: '/history/activity-instance/count', body: { processInstanceId: p.pi } })), trace: ['Read ActivityInstance'] },
  {
    route: 'GET /engine-rest/history/activity-instance/:id', as: 'office', wrong: 'network', trace: ['Read ActivityInstance'],
    make: async (f) => {
      const { pi } = await f.plan();
      const [row] = await f.s.db('activity_instances').where({ process_instance_id: pi }).orderBy('seq');
      return { url: `/history/activity-instance/${row.activity_id}:${row.execution_id}`, pi };
    },
  },
  // External tasks: workers.
  {
    route: 'POST /engine-rest/external-task/fetchAndLock', as: 'worker', wrong: 'office', trace: ['Fetch ExternalTask'],
    make: async (f) => {
      await f.external(undefined);
      return { url: '/external-task/fetchAndLock', body: { workerId: 'rt-worker', maxTasks: 1, topics: [{ topicName: 'backup-check', lockDuration: 60_000 }] } };
    },
  },
  { route: 'GET /engine-rest/external-task', as: 'worker', wrong: 'office', make: async () => ({ url: '/external-task' }), trace: ['Read ExternalTask'] },
  { route: 'POST /engine-rest/external-task', as: 'worker', wrong: 'office', make: async () => ({ url: '/external-task', body: {} }), trace: ['Read ExternalTask'] },
  { route: 'GET /engine-rest/external-task/count', as: 'worker', wrong: 'office', make: async () => ({ url: '/external-task/count' }), trace: ['Read ExternalTask'] },
  { route: 'POST /engine-rest/external-task/count', as: 'worker', wrong: 'office', make: async () => ({ url: '/external-task/count', body: {} }), trace: ['Read ExternalTask'] },
  { route: 'GET /engine-rest/external-task/:id', as: 'worker', wrong: 'office', make: onExternal(undefined, (e) => ({ url: `/external-task/${e.id}` })), trace: ['Read ExternalTask'] },
  { route: 'POST /engine-rest/external-task/:id/complete', as: 'worker', wrong: 'office', make: onExternal('rt-worker', (e) => ({ url: `/external-task/${e.id}/complete`, body: { workerId: 'rt-worker', variables: vars({ backupOk: true }) } })), trace: ['Complete ExternalTask'] },
  { route: 'POST /engine-rest/external-task/:id/failure', as: 'worker', wrong: 'office', make: onExternal('rt-worker', (e) => ({ url: `/external-task/${e.id}/failure`, body: { workerId: 'rt-worker', errorMessage: '磁带库离线', retries: 2, retryTimeout: 1000 } })), trace: ['Failure ExternalTask'] },
  { route: 'POST /engine-rest/external-task/:id/bpmnError', as: 'worker', wrong: 'office', make: onExternal('rt-worker', (e) => ({ url: `/external-task/${e.id}/bpmnError`, body: { workerId: 'rt-worker', errorCode: 'BACKUP_MISSING' } })), trace: ['BpmnError ExternalTask'] },
  { route: 'POST /engine-rest/external-task/:id/extendLock', as: 'worker', wrong: 'office', make: onExternal('rt-worker', (e) => ({ url: `/external-task/${e.id}/extendLock`, body: { workerId: 'rt-worker', newDuration: 60_000 } })), trace: ['ExtendLock ExternalTask'] },
  { route: 'POST /engine-rest/external-task/:id/unlock', as: 'worker', wrong: 'office', make: onExternal('rt-worker', (e) => ({ url: `/external-task/${e.id}/unlock` })), trace: ['Unlock ExternalTask'] },
  { route: 'GET /engine-rest/external-task/topic-names', as: 'worker', wrong: 'office', make: async () => ({ url: '/external-task/topic-names?withRetriesLeft=true' }), trace: ['Read ExternalTask'] },
  { route: 'POST /engine-rest/external-task/:id/lock', as: 'worker', wrong: 'office', make: onExternal(undefined, (e) => ({ url: `/external-task/${e.id}/lock`, body: { workerId: 'rt-worker', lockDuration: 60_000 } })), trace: ['Lock ExternalTask'] },
  { route: 'GET /engine-rest/external-task/:id/errorDetails', as: 'worker', wrong: 'office', make: onExternal(undefined, (e) => ({ url: `/external-task/${e.id}/errorDetails` })), trace: ['Read ExternalTask'] },
  { route: 'PUT /engine-rest/external-task/:id/priority', as: 'admin', wrong: 'worker', make: onExternal(undefined, (e) => ({ url: `/external-task/${e.id}/priority`, body: { priority: 7 } })), trace: ['SetPriority ExternalTask'] },
  { route: 'PUT /engine-rest/external-task/retries', as: 'admin', wrong: 'worker', make: onExternal(undefined, (e) => ({ url: '/external-task/retries', body: { externalTaskIds: [e.id], retries: 3 } })), trace: ['SetRetries ExternalTask'] },
  {
    // camunda-external-task-client-js loads a File variable of a task it holds by the instance (root execution) id.
    route: 'GET /engine-rest/execution/:id/localVariables/:name/data', as: 'worker', wrong: 'office', trace: ['Read Variable'],
    make: async (f) => {
      const e = await f.external('rt-worker');
      await f.c.admin.put(`/engine-rest/process-instance/${e.pi}/variables/scan`, { type: 'File', value: b64, valueInfo: { filename: 'scan.txt' } });
      return { url: `/execution/${e.pi}/localVariables/scan/data`, pi: e.pi };
    },
  },
  { route: 'PUT /engine-rest/external-task/:id/retries', as: 'admin', wrong: 'worker', make: onExternal(undefined, (e) => ({ url: `/external-task/${e.id}/retries`, body: { retries: 3 } })), trace: ['SetRetries ExternalTask'] },
  // Incidents.
  { route: 'GET /engine-rest/incident', as: 'office', wrong: 'worker', make: async () => ({ url: '/incident' }), trace: ['Read Incident'] },
  { route: 'GET /engine-rest/incident/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/incident/count' }), trace: ['Read Incident'] },
  {
    // An external task failed down to no retries is an incident; the admin started it, so an outsider finds nothing.
    route: 'GET /engine-rest/incident/:id', as: 'admin', wrong: 'network', trace: ['Read Incident'],
    make: async (f) => {
      const e = await f.external('rt-worker');
      const failed = await f.c.worker.post(`/engine-rest/external-task/${e.id}/failure`, { workerId: 'rt-worker', errorMessage: '磁带库离线', retries: 0 });
      if (failed.status !== 204) throw new Error(JSON.stringify(failed.body));
      const [incident] = await f.s.db('incidents').where({ process_instance_id: e.pi });
      return { url: `/incident/${incident.id}`, pi: e.pi };
    },
  },
  {
    route: 'PUT /engine-rest/incident/:id/annotation', as: 'admin', wrong: 'office', trace: ['SetAnnotation Incident'],
    make: async (f) => ({ ...(await incidentCall(f, (id) => `/incident/${id}/annotation`)), body: { annotation: '维修中' } }),
  },
  { route: 'DELETE /engine-rest/incident/:id/annotation', as: 'admin', wrong: 'office', trace: ['ClearAnnotation Incident'], make: (f) => incidentCall(f, (id) => `/incident/${id}/annotation`) },
  {
    // Failed jobs and external tasks are resolved by their retries; a custom incident (a row of its own here) by hand.
    route: 'DELETE /engine-rest/incident/:id', as: 'admin', wrong: 'office', trace: ['Resolve Incident'],
    make: async (f) => {
      const { pi } = await incidentCall(f, () => '');
      const [row] = await f.s.db('incidents').where({ process_instance_id: pi });
      const id = `${row.id}-custom`;
      await f.s.db('incidents').insert({ ...row, id, incident_type: 'custom', configuration: null, created_at: new Date(), end_time: null, state: 'open' });
      return { url: `/incident/${id}`, pi };
    },
  },
  { route: 'GET /engine-rest/history/incident', as: 'office', wrong: 'worker', make: async () => ({ url: '/history/incident' }), trace: ['Read Incident'] },
  { route: 'GET /engine-rest/history/incident/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/history/incident/count' }), trace: ['Read Incident'] },
  // Messages and signals: monitoring systems (workers) and administrators.
  {
    route: 'POST /engine-rest/message', as: 'worker', wrong: 'office', trace: ['Create ProcessInstance'],
    make: async () => ({ url: '/message', body: { messageName: 'security-incident-reported', processVariables: vars({ reportSource: 'monitoring', reportSummary: '防火墙告警' }) } }),
  },
  { route: 'POST /engine-rest/signal', as: 'worker', wrong: 'office', make: async () => ({ url: '/signal', body: { name: 'drill-started' } }), trace: ['Throw Signal'] },
  // Conditional starts: a start by the caller, with the right to start the process (here an administrator's).
  {
    route: 'POST /engine-rest/condition', as: 'admin', wrong: 'worker', trace: ['Create ProcessInstance'],
    make: async (f) => ({ url: '/condition', body: { processDefinitionId: await conditionalStart(f), variables: vars({ amount: 1200 }) } }),
  },
  // Jobs (timers): administrators.
  { route: 'GET /engine-rest/job-definition', as: 'admin', wrong: 'office', make: async () => ({ url: '/job-definition' }), trace: ['Read JobDefinition'] },
  { route: 'POST /engine-rest/job-definition', as: 'admin', wrong: 'office', make: async () => ({ url: '/job-definition', body: {} }), trace: ['Read JobDefinition'] },
  // Reading timers: anyone of the organisation, for the instances they may see (the monitor); firing and moving them: administrators.
  { route: 'GET /engine-rest/job-definition/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/job-definition/count' }), trace: ['Read JobDefinition'] },
  { route: 'POST /engine-rest/job-definition/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/job-definition/count', body: {} }), trace: ['Read JobDefinition'] },
  {
    route: 'GET /engine-rest/job-definition/:id', as: 'admin', wrong: 'office',
    make: async (f) => {
      let [first] = (await f.c.admin.get('/engine-rest/job-definition')).body;
      if (!first) {
        await f.s.services.deployments.deploy(oneResource('rt-tick.bpmn', Buffer.from(timerDiagram('start', 'timeCycle', 'R/PT1H', 'rt-tick'))));
        [first] = (await f.c.admin.get('/engine-rest/job-definition')).body;
      }
      return { url: `/job-definition/${encodeURIComponent(first.id)}` };
    },
    trace: ['Read JobDefinition'],
  },
  { route: 'GET /engine-rest/schema/log', as: 'admin', wrong: 'office', make: async () => ({ url: '/schema/log' }), trace: ['Read SchemaLog'] },
  { route: 'POST /engine-rest/schema/log', as: 'admin', wrong: 'office', make: async () => ({ url: '/schema/log', body: {} }), trace: ['Read SchemaLog'] },
  { route: 'GET /engine-rest/metrics/:name/sum', as: 'admin', wrong: 'office', make: async () => ({ url: '/metrics/activity-instance-start/sum' }), trace: ['Read Metrics'] },
  { route: 'GET /engine-rest/metrics', as: 'admin', wrong: 'office', make: async () => ({ url: '/metrics' }), trace: ['Read Metrics'] },
  { route: 'GET /engine-rest/job', as: 'office', wrong: 'worker', make: async () => ({ url: '/job' }), trace: ['Read Job'] },
  { route: 'POST /engine-rest/job', as: 'office', wrong: 'worker', make: async () => ({ url: '/job', body: {} }), trace: ['Read Job'] },
  { route: 'GET /engine-rest/job/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/job/count' }), trace: ['Read Job'] },
  { route: 'POST /engine-rest/job/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/job/count', body: {} }), trace: ['Read Job'] },
  { route: 'GET /engine-rest/job/:id', as: 'admin', wrong: 'network', make: async (f) => ({ url: `/job/${await f.job()}` }), trace: ['Read Job'] },
  { route: 'POST /engine-rest/job/:id/execute', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/job/${await f.job()}/execute` }), trace: ['Execute Job'] },
  { route: 'PUT /engine-rest/job/:id/retries', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/job/${await f.job()}/retries`, body: { retries: 5 } }), trace: ['SetJobRetries Job'] },
  { route: 'PUT /engine-rest/job/:id/priority', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/job/${await f.job()}/priority`, body: { priority: 5 } }), trace: ['SetPriority Job'] },
  { route: 'PUT /engine-rest/job/:id/suspended', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/job/${await f.job()}/suspended`, body: { suspended: true } }), trace: ['SuspendJob Job'] },
  {
    route: 'PUT /engine-rest/job/suspended', as: 'admin', wrong: 'office',
    make: async (f) => {
      const pi = (await f.s.db('timers').where({ id: await f.job() }).first()).process_instance_id as string;
      return { url: '/job/suspended', body: { suspended: true, processInstanceId: pi }, pi };
    },
    trace: ['SuspendJob Job'],
  },
  { route: 'DELETE /engine-rest/job/:id', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/job/${await f.job()}` }), trace: ['Delete Job'] },
  { route: 'GET /engine-rest/job/:id/stacktrace', as: 'admin', wrong: 'network', make: async (f) => ({ url: `/job/${await f.job()}/stacktrace` }), trace: ['Read Job'] },
  { route: 'PUT /engine-rest/job/:id/duedate', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/job/${await f.job()}/duedate`, body: { duedate: '2030-01-01T00:00:00.000+0800' } }), trace: ['SetDueDate Job'] },
  // The job log: as the external task log, reads of the instances the caller may see.
  ...(['GET', 'POST'] as const).flatMap((m) => ['/history/job-log', '/history/job-log/count'].map((p): Case => ({
    route: `${m} /engine-rest${p}`, as: 'admin', wrong: 'worker', trace: ['Read JobLog'],
    make: async (f) => {
      const pi = (await f.s.db('timers').where({ id: await f.job() }).first()).process_instance_id as string;
      return m === 'GET' ? { url: `${p}?processInstanceId=${pi}`, pi } : { url: p, body: { processInstanceId: pi }, pi };
    },
  }))),
  ...['', '/stacktrace'].map((tail): Case => ({
    route: `GET /engine-rest/history/job-log/:id${tail}`, as: 'admin', wrong: 'office', trace: ['Read JobLog'],
    make: async (f) => {
      const [row] = await f.s.db('job_log').where({ job_id: await f.job() });
      return { url: `/history/job-log/${row.id}${tail}`, pi: row.process_instance_id };
    },
  })),
  // Identity: administrators.
  { route: 'POST /engine-rest/user/create', as: 'admin', wrong: 'office', make: async () => ({ url: '/user/create', body: { profile: { id: `rt-${Math.random().toString(36).slice(2, 8)}` }, credentials: { password: 'long-enough-1' } } }), trace: ['Create User'] },
  {
    // An administrator resets a fresh user's password (giving their own); another user may not.
    route: 'PUT /engine-rest/user/:id/credentials', as: 'admin', wrong: 'office', trace: ['UpdateCredentials User'],
    make: async (f) => {
      const id = `rt-${Math.random().toString(36).slice(2, 8)}`;
      await f.c.admin.post('/engine-rest/user/create', { profile: { id }, credentials: { password: 'long-enough-1' } });
      return { url: `/user/${id}/credentials`, body: { password: 'long-enough-2', authenticatedUserPassword: ADMIN.password } };
    },
  },
  { route: 'GET /engine-rest/user', as: 'admin', wrong: 'office', make: async () => ({ url: '/user' }), trace: ['Read User'] },
  { route: 'POST /engine-rest/group/create', as: 'admin', wrong: 'office', make: async () => ({ url: '/group/create', body: { id: `rt-${Math.random().toString(36).slice(2, 8)}`, name: '临时组' } }), trace: ['Create Group'] },
  { route: 'GET /engine-rest/group', as: 'admin', wrong: 'office', make: async () => ({ url: '/group' }), trace: ['Read Group'] },
  { route: 'POST /engine-rest/group', as: 'admin', wrong: 'office', make: async () => ({ url: '/group', body: {} }), trace: ['Read Group'] },
  { route: 'PUT /engine-rest/group/:id/members/:userId', as: 'admin', wrong: 'office', make: async () => ({ url: '/group/data-security/members/office-rt' }), trace: ['AddMember Group'] },
  { route: 'DELETE /engine-rest/group/:id/members/:userId', as: 'admin', wrong: 'office', make: async () => ({ url: '/group/data-security/members/office-rt' }), trace: ['RemoveMember Group'] },
  { route: 'GET /engine-rest/user/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/user/count' }), trace: ['Read User'] },
  // One's own profile (office-rt reads and changes their own); another user's is refused.
  { route: 'GET /engine-rest/user/:id/profile', as: 'office', wrong: 'network', make: async () => ({ url: '/user/office-rt/profile' }), trace: ['Read User'] },
  { route: 'PUT /engine-rest/user/:id/profile', as: 'office', wrong: 'network', make: async () => ({ url: '/user/office-rt/profile', body: { id: 'office-rt', firstName: '办公室', email: 'office-rt@example.org' } }), trace: ['Update User'] },
  { route: 'DELETE /engine-rest/user/:id', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/user/${await freshUser(f)}` }), trace: ['Delete User'] },
  { route: 'POST /engine-rest/user/:id/unlock', as: 'admin', wrong: 'office', make: async () => ({ url: '/user/office-rt/unlock' }), trace: ['Unlock User'] },
  { route: 'GET /engine-rest/group/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/group/count' }), trace: ['Read Group'] },
  { route: 'POST /engine-rest/group/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/group/count', body: {} }), trace: ['Read Group'] },
  { route: 'GET /engine-rest/group/:id', as: 'admin', wrong: 'office', make: async () => ({ url: '/group/data-security' }), trace: ['Read Group'] },
  { route: 'PUT /engine-rest/group/:id', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/group/${await freshGroup(f)}`, body: { name: '改名组', type: 'WORKFLOW' } }), trace: ['Update Group'] },
  { route: 'DELETE /engine-rest/group/:id', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/group/${await freshGroup(f)}` }), trace: ['Delete Group'] },
  { route: 'GET /engine-rest/identity/groups', as: 'office', wrong: 'network', make: async () => ({ url: '/identity/groups?userId=office-rt' }), trace: ['Read Group'] },
  { route: 'GET /engine-rest/identity/password-policy', as: 'office', wrong: null, make: async () => ({ url: '/identity/password-policy' }), trace: [] },
  { route: 'POST /engine-rest/identity/password-policy', as: 'office', wrong: null, make: async () => ({ url: '/identity/password-policy', body: { password: 'short' } }), trace: [] },
  // Checking one's own password; checking another's is for administrators.
  { route: 'POST /engine-rest/identity/verify', as: 'admin', wrong: 'office', make: async () => ({ url: '/identity/verify', body: { username: ADMIN.user, password: ADMIN.password } }), trace: ['Verify User'] },
  // OPTIONS on identity resources: anyone may ask what they may do; nothing is read.
  { route: 'OPTIONS /engine-rest/user', as: 'office', wrong: null, make: async () => ({ url: '/user' }), trace: [] },
  { route: 'OPTIONS /engine-rest/user/:id', as: 'office', wrong: null, make: async () => ({ url: '/user/office-rt' }), trace: [] },
  { route: 'GET /engine-rest/authorization', as: 'office', wrong: 'worker', make: async () => ({ url: '/authorization?resourceType=6' }), trace: ['Read Authorization'] },
  { route: 'GET /engine-rest/authorization/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/authorization/count' }), trace: ['Read Authorization'] },
  { route: 'GET /engine-rest/authorization/check', as: 'office', wrong: 'worker', make: async () => ({ url: '/authorization/check?permissionName=READ&resourceName=Group&resourceType=2&resourceId=office' }), trace: ['Read Authorization'] },
  { route: 'GET /engine-rest/authorization/:id', as: 'office', wrong: 'network', make: async () => ({ url: '/authorization/self-office-rt' }), trace: ['Read Authorization'] },
  { route: 'OPTIONS /engine-rest/authorization', as: 'office', wrong: 'worker', make: async () => ({ url: '/authorization' }), trace: [] },
  { route: 'OPTIONS /engine-rest/authorization/:id', as: 'office', wrong: 'worker', make: async () => ({ url: '/authorization/self-office-rt' }), trace: [] },
  { route: 'OPTIONS /engine-rest/group', as: 'office', wrong: null, make: async () => ({ url: '/group' }), trace: [] },
  { route: 'OPTIONS /engine-rest/group/:id', as: 'office', wrong: null, make: async () => ({ url: '/group/office' }), trace: [] },
  { route: 'OPTIONS /engine-rest/group/:id/members', as: 'office', wrong: null, make: async () => ({ url: '/group/office/members' }), trace: [] },
  // Task filters: the owner's; another role does not learn they exist. Using one is a read of tasks.
  { route: 'OPTIONS /engine-rest/filter', as: 'office', wrong: null, make: async () => ({ url: '/filter' }), trace: [] },
  { route: 'OPTIONS /engine-rest/filter/:id', as: 'office', wrong: null, make: async (f) => ({ url: `/filter/${await officeFilter(f)}` }), trace: [] },
  { route: 'POST /engine-rest/filter/create', as: 'office', wrong: 'worker', make: async () => ({ url: '/filter/create', body: { resourceType: 'Task', name: '我的任务', query: { assigneeExpression: '${currentUser()}' } } }), trace: ['Create Filter'] },
  { route: 'GET /engine-rest/filter', as: 'office', wrong: 'worker', make: async () => ({ url: '/filter' }), trace: ['Read Filter'] },
  { route: 'GET /engine-rest/filter/count', as: 'office', wrong: 'worker', make: async () => ({ url: '/filter/count' }), trace: ['Read Filter'] },
  { route: 'GET /engine-rest/filter/:id', as: 'office', wrong: 'network', make: async (f) => ({ url: `/filter/${await officeFilter(f)}` }), trace: ['Read Filter'] },
  { route: 'PUT /engine-rest/filter/:id', as: 'office', wrong: 'network', make: async (f) => ({ url: `/filter/${await officeFilter(f)}`, body: { name: '改名', query: {} } }), trace: ['Update Filter'] },
  { route: 'DELETE /engine-rest/filter/:id', as: 'office', wrong: 'network', make: async (f) => ({ url: `/filter/${await officeFilter(f)}` }), trace: ['Delete Filter'] },
  { route: 'GET /engine-rest/filter/:id/list', as: 'office', wrong: 'network', make: onPlanFilter((id, p) => ({ url: `/filter/${id}/list`, pi: p.pi })), trace: ['Read Task'] },
  { route: 'POST /engine-rest/filter/:id/list', as: 'office', wrong: 'network', make: onPlanFilter((id, p) => ({ url: `/filter/${id}/list`, body: {}, pi: p.pi })), trace: ['Read Task'] },
  { route: 'GET /engine-rest/filter/:id/count', as: 'office', wrong: 'network', make: onPlanFilter((id) => ({ url: `/filter/${id}/count` })), trace: ['Read Task'] },
  { route: 'POST /engine-rest/filter/:id/count', as: 'office', wrong: 'network', make: onPlanFilter((id) => ({ url: `/filter/${id}/count`, body: {} })), trace: ['Read Task'] },
  { route: 'GET /engine-rest/filter/:id/singleResult', as: 'office', wrong: 'network', make: onPlanFilter((id, p) => ({ url: `/filter/${id}/singleResult`, pi: p.pi })), trace: ['Read Task'] },
  { route: 'POST /engine-rest/filter/:id/singleResult', as: 'office', wrong: 'network', make: onPlanFilter((id, p) => ({ url: `/filter/${id}/singleResult`, body: {}, pi: p.pi })), trace: ['Read Task'] },
  // Tokens: one's own.
  { route: 'POST /engine-rest/token', as: 'office', wrong: null, make: async () => ({ url: '/token', body: { name: 'rt' } }), trace: ['Create Token'] },
  { route: 'GET /engine-rest/token', as: 'office', wrong: null, make: async () => ({ url: '/token' }), trace: ['Read Token'] },
  {
    route: 'DELETE /engine-rest/token/:id', as: 'office', wrong: 'network', trace: ['Revoke Token'],
    make: async (f) => ({ url: `/token/${(await f.c.office.post('/engine-rest/token', { name: 'to-revoke' })).body.id}` }),
  },
  // Notifications (站内信): one's own; another's is 404. 催办 by the office.
  { route: 'GET /engine-rest/notification', as: 'office', wrong: null, make: async () => ({ url: '/notification?unread=true' }), trace: ['Read Notification'] },
  { route: 'GET /engine-rest/notification/count', as: 'office', wrong: null, make: async () => ({ url: '/notification/count' }), trace: ['Read Notification'] },
  { route: 'GET /engine-rest/notification/preferences', as: 'office', wrong: null, make: async () => ({ url: '/notification/preferences' }), trace: ['Read Notification'] },
  {
    route: 'PUT /engine-rest/notification/preferences', as: 'office', wrong: null, trace: ['UpdateNotificationPreferences NotificationPreferences'],
    make: async () => ({ url: '/notification/preferences', body: { email: true, quietHours: null } }),
  },
  { route: 'POST /engine-rest/notification/read-all', as: 'office', wrong: null, make: async () => ({ url: '/notification/read-all' }), trace: ['ReadAllNotifications Notification'] },
  {
    route: 'POST /engine-rest/notification/:id/read', as: 'office', wrong: 'network', trace: ['ReadNotification Notification'],
    make: async (f) => {
      await f.plan();
      return { url: `/notification/${(await f.c.office.get('/engine-rest/notification?maxResults=1')).body[0].id}/read` };
    },
  },
  // 抄送: who may complete the task copies it; the list and its marks are one's own.
  { route: 'POST /engine-rest/task/:id/cc', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/cc`, body: { userIds: ['network-rt'], message: '请知悉' } })), trace: ['CarbonCopy ProcessInstance'] },
  { route: 'GET /engine-rest/carbon-copy', as: 'office', wrong: null, make: async () => ({ url: '/carbon-copy?unread=true' }), trace: ['Read CarbonCopy'] },
  { route: 'GET /engine-rest/carbon-copy/count', as: 'office', wrong: null, make: async () => ({ url: '/carbon-copy/count' }), trace: ['Read CarbonCopy'] },
  {
    route: 'POST /engine-rest/carbon-copy/:id/read', as: 'office', wrong: 'network', trace: ['ReadCarbonCopy CarbonCopy'],
    make: async (f) => {
      const { task } = await f.plan();
      await f.c.admin.post(`/engine-rest/task/${task}/cc`, { userIds: ['office-rt'] });
      return { url: `/carbon-copy/${(await f.c.office.get('/engine-rest/carbon-copy?maxResults=1')).body[0].id}/read` };
    },
  },
  // Role webhooks (企业微信/钉钉 robots): administrators only.
  { route: 'GET /engine-rest/notification-webhook', as: 'admin', wrong: 'office', make: async () => ({ url: '/notification-webhook' }), trace: ['Read NotificationWebhook'] },
  { route: 'GET /engine-rest/notification-webhook/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/notification-webhook/count' }), trace: ['Read NotificationWebhook'] },
  {
    route: 'POST /engine-rest/notification-webhook', as: 'admin', wrong: 'office', trace: ['Create NotificationWebhook'],
    make: async () => ({ url: '/notification-webhook', body: { groupId: 'leading-group', format: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=rt' } }),
  },
  { route: 'GET /engine-rest/notification-webhook/:id', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/notification-webhook/${await webhookOf(f)}` }), trace: ['Read NotificationWebhook'] },
  { route: 'PUT /engine-rest/notification-webhook/:id', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/notification-webhook/${await webhookOf(f)}`, body: { enabled: false } }), trace: ['Update NotificationWebhook'] },
  {
    route: 'DELETE /engine-rest/notification-webhook/:id', as: 'admin', wrong: 'office', trace: ['Delete NotificationWebhook'],
    make: async (f) => ({ url: `/notification-webhook/${(await f.c.admin.post('/engine-rest/notification-webhook', { groupId: 'office', format: 'json', url: 'https://example.org/hook' })).body.id}` }),
  },
  { route: 'POST /engine-rest/task/:id/urge', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/urge`, body: { message: '请尽快办理' } })), trace: ['Urge Task'] },
  // Modification (administrators), send back (who may act on the task), withdraw (the initiator).
  {
    route: 'POST /engine-rest/process-instance/:id/modification', as: 'admin', wrong: 'office', trace: ['ModifyProcessInstance ProcessInstance'],
    make: onPlan((p) => ({ url: `/process-instance/${p.pi}/modification`, body: { instructions: [{ type: 'cancel', activityId: 'draftPlan' }, { type: 'startBeforeActivity', activityId: 'draftPlan' }] } })),
  },
  {
    route: 'POST /engine-rest/modification/execute', as: 'admin', wrong: 'office', trace: ['ModifyProcessInstance ProcessInstance'],
    make: async (f) => {
      const p = await f.plan();
      const definition = (await f.c.admin.get(`/engine-rest/process-instance/${p.pi}`)).body.definitionId;
      return { url: '/modification/execute', pi: p.pi, body: { processDefinitionId: definition, processInstanceIds: [p.pi], instructions: [{ type: 'cancel', activityId: 'draftPlan' }, { type: 'startBeforeActivity', activityId: 'draftPlan' }] } };
    },
  },
  {
    route: 'POST /engine-rest/modification/executeAsync', as: 'admin', wrong: 'office', trace: ['ModifyProcessInstance Batch'],
    // An instance that does not exist: its job fails, so the scheduler adds no row of its own meanwhile.
    make: async (f) => {
      const p = await f.plan();
      const definition = (await f.c.admin.get(`/engine-rest/process-instance/${p.pi}`)).body.definitionId;
      return { url: '/modification/executeAsync', body: { processDefinitionId: definition, processInstanceIds: ['no-such-instance'], instructions: [{ type: 'cancel', activityId: 'draftPlan' }] } };
    },
  },
  // The asynchronous instance operations (administrators): instances that do not exist, or an instruction its job refuses, so the scheduler adds no row of its own meanwhile.
  {
    route: 'POST /engine-rest/process-instance/:id/modification-async', as: 'admin', wrong: 'office', trace: ['ModifyProcessInstance Batch'],
    make: onPlan((p) => ({ url: `/process-instance/${p.pi}/modification-async`, pi: p.pi, body: { instructions: [{ type: 'cancel', activityInstanceId: 'no-such:activity' }] } })),
  },
  { route: 'POST /engine-rest/process-instance/delete', as: 'admin', wrong: 'office', make: async () => ({ url: '/process-instance/delete', body: { processInstanceIds: ['no-such-instance'] } }), trace: ['Delete Batch'] },
  {
    route: 'POST /engine-rest/process-instance/delete-historic-query-based', as: 'admin', wrong: 'office', trace: ['Delete Batch'],
    make: async () => ({ url: '/process-instance/delete-historic-query-based', body: { processInstanceIds: ['no-such-instance'] } }),
  },
  {
    route: 'POST /engine-rest/process-instance/suspended-async', as: 'admin', wrong: 'office', trace: ['Suspend Batch'],
    make: async () => ({ url: '/process-instance/suspended-async', body: { processInstanceIds: ['no-such-instance'], suspended: true } }),
  },
  {
    route: 'POST /engine-rest/process-instance/variables-async', as: 'admin', wrong: 'office', trace: ['SetVariables Batch'],
    make: async () => ({ url: '/process-instance/variables-async', body: { processInstanceIds: ['no-such-instance'], variables: vars({ x: 1 }) } }),
  },
  {
    route: 'POST /engine-rest/process-instance/message-async', as: 'admin', wrong: 'office', trace: ['CorrelateMessage Batch'],
    make: async () => ({ url: '/process-instance/message-async', body: { processInstanceIds: ['no-such-instance'], messageName: 'nobody-waits' } }),
  },
  { route: 'GET /engine-rest/task/:id/return-targets', as: 'office', wrong: 'network', make: onPlan((p) => ({ url: `/task/${p.task}/return-targets` })), trace: ['Read Task'] },
  {
    route: 'POST /engine-rest/task/:id/return', as: 'office', wrong: 'network', trace: ['Return Task'],
    make: async (f) => {
      const p = await drafted(f);
      return { url: `/task/${p.task}/return`, pi: p.pi, body: { activityId: 'draftPlan', comment: '请补充' } };
    },
  },
  {
    route: 'POST /engine-rest/process-instance/:id/withdraw', as: 'office', wrong: 'network', trace: ['Withdraw ProcessInstance'],
    make: async (f) => {
      const p = await drafted(f);
      return { url: `/process-instance/${p.pi}/withdraw`, pi: p.pi, body: { comment: '撤回修改' } };
    },
  },
  // The trace itself: administrators.
  { route: 'GET /engine-rest/history/user-operation', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/user-operation?maxResults=5' }), trace: ['Read Trace'] },
  { route: 'GET /engine-rest/history/user-operation/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/user-operation/count' }), trace: ['Read Trace'] },
  { route: 'GET /engine-rest/trace/verify', as: 'admin', wrong: 'office', make: async () => ({ url: '/trace/verify' }), trace: ['Read Trace'] },
  // Backups of the embedded database (ours; PostgreSQL answers 409 naming pg_dump, test/cli/online-backup.test.ts).
  { route: 'GET /engine-rest/backup', as: 'admin', wrong: 'office', make: async () => ({ url: '/backup' }), trace: ['Read Backup'] },
  { route: 'POST /engine-rest/backup', as: 'admin', wrong: 'office', on: 'pglite', make: async () => ({ url: '/backup' }), trace: ['Create Backup'] },
  // Migration and batches (administrators only).
  { route: 'POST /engine-rest/migration/generate', as: 'admin', wrong: 'office', make: async (f) => ({ url: '/migration/generate', body: await migrationPair(f) }), trace: ['Read MigrationPlan'] },
  {
    route: 'POST /engine-rest/migration/validate', as: 'admin', wrong: 'office', trace: ['Read MigrationPlan'],
    make: async (f) => ({ url: '/migration/validate', body: { migrationPlan: await migrationPlan(f) } }),
  },
  {
    route: 'POST /engine-rest/migration/execute', as: 'admin', wrong: 'office', trace: ['Migrate ProcessInstance'],
    make: async (f) => { const pi = await migrationInstance(f); return { url: '/migration/execute', body: { migrationPlan: await migrationPlan(f), processInstanceIds: [pi] }, pi }; },
  },
  {
    route: 'POST /engine-rest/migration/executeAsync', as: 'admin', wrong: 'office', trace: ['Migrate Batch'],
    // An instance that does not exist: its job fails, so the scheduler adds no row of its own meanwhile.
    make: async (f) => ({ url: '/migration/executeAsync', body: { migrationPlan: await migrationPlan(f), processInstanceIds: ['no-such-instance'] } }),
  },
  { route: 'GET /engine-rest/batch', as: 'admin', wrong: 'office', make: async () => ({ url: '/batch' }), trace: ['Read Batch'] },
  { route: 'GET /engine-rest/batch/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/batch/count' }), trace: ['Read Batch'] },
  { route: 'GET /engine-rest/batch/statistics', as: 'admin', wrong: 'office', make: async () => ({ url: '/batch/statistics' }), trace: ['Read Batch'] },
  { route: 'GET /engine-rest/batch/statistics/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/batch/statistics/count' }), trace: ['Read Batch'] },
  { route: 'GET /engine-rest/batch/:id', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/batch/${await migrationBatch(f)}` }), trace: ['Read Batch'] },
  { route: 'PUT /engine-rest/batch/:id/suspended', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/batch/${await migrationBatch(f)}/suspended`, body: { suspended: true } }), trace: ['SuspendBatch Batch'] },
  { route: 'DELETE /engine-rest/batch/:id', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/batch/${await migrationBatch(f)}` }), trace: ['Delete Batch'] },
  { route: 'GET /engine-rest/history/batch', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/batch' }), trace: ['Read Batch'] },
  { route: 'GET /engine-rest/history/batch/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/batch/count?completed=true' }), trace: ['Read Batch'] },
  {
    route: 'DELETE /engine-rest/history/batch/:id', as: 'admin', wrong: 'office', trace: ['DeleteHistory Batch'],
    // An ended batch (deleted without cascade keeps its history).
    make: async (f) => {
      const id = await migrationBatch(f);
      await f.s.services.batches.remove(id, false, adminPrincipal);
      return { url: `/history/batch/${id}` };
    },
  },
  { route: 'GET /engine-rest/history/batch/:id', as: 'admin', wrong: 'office', make: async (f) => ({ url: `/history/batch/${await migrationBatch(f)}` }), trace: ['Read Batch'] },
  { route: 'POST /engine-rest/history/cleanup', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/cleanup?immediatelyDue=true' }), trace: ['HistoryCleanup Job'] },
  { route: 'GET /engine-rest/history/cleanup/configuration', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/cleanup/configuration' }), trace: ['Read Job'] },
  {
    route: 'GET /engine-rest/history/cleanup/job', as: 'admin', wrong: 'office', trace: ['Read Job'],
    // The job made without a due time, so that the running scheduler leaves no row of its own meanwhile.
    make: async (f) => { await scheduleCleanupJob(f.s.db, null); return { url: '/history/cleanup/job' }; },
  },
  { route: 'GET /engine-rest/history/cleanup/jobs', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/cleanup/jobs' }), trace: ['Read Job'] },
  { route: 'GET /engine-rest/history/process-definition/cleanable-process-instance-report', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/process-definition/cleanable-process-instance-report' }), trace: ['Read ProcessDefinition'] },
  { route: 'GET /engine-rest/history/process-definition/cleanable-process-instance-report/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/process-definition/cleanable-process-instance-report/count' }), trace: ['Read ProcessDefinition'] },
  { route: 'GET /engine-rest/history/decision-definition/cleanable-decision-instance-report', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/decision-definition/cleanable-decision-instance-report' }), trace: ['Read DecisionDefinition'] },
  { route: 'GET /engine-rest/history/decision-definition/cleanable-decision-instance-report/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/decision-definition/cleanable-decision-instance-report/count' }), trace: ['Read DecisionDefinition'] },
  { route: 'GET /engine-rest/history/batch/cleanable-batch-report', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/batch/cleanable-batch-report' }), trace: ['Read Batch'] },
  { route: 'GET /engine-rest/history/batch/cleanable-batch-report/count', as: 'admin', wrong: 'office', make: async () => ({ url: '/history/batch/cleanable-batch-report/count' }), trace: ['Read Batch'] },
  {
    route: 'POST /engine-rest/history/process-instance/delete', as: 'admin', wrong: 'office', trace: ['Delete Batch'],
    // An instance that does not exist: its job fails, so the scheduler adds no row of its own meanwhile.
    make: async () => ({ url: '/history/process-instance/delete', body: { historicProcessInstanceIds: ['no-such-instance'], deleteReason: 'route table' } }),
  },
];

/** Routes outside the table, and why. */
const OPEN = new Set(['GET /health', 'GET /health/live', 'GET /health/ready']); // load balancers and orchestrators probe them without credentials; they show no data

/** `METHOD /path` of every route of the application's routers, HEAD included. */
const routedRoutes = privateAppRoutes;
const isHead = (route: string) => route.startsWith('HEAD ');

test('every route of the API is in the table, once; every HEAD route is a GET route the HEAD test covers', (t) => {
  const routed = routedRoutes();
  const listed = cases.map((c) => c.route);
  // The router answers HEAD with the GET handler: those are checked to be refused, below.
  t.deepEqual(routed.filter((r) => !isHead(r) && !listed.includes(r) && !OPEN.has(r)), [], 'routes without a case');
  t.deepEqual(routed.filter(isHead).filter((r) => !listed.includes(r.replace(/^HEAD /, 'GET ')) && !OPEN.has(r.replace(/^HEAD /, 'GET '))), [], 'HEAD routes without a GET case');
  t.true(routed.filter(isHead).length >= listed.filter((r) => r.startsWith('GET ')).length, 'every GET route answers HEAD too');
  t.deepEqual(listed.filter((r) => !routed.includes(r)), [], 'cases without a route');
  t.is(new Set(listed).size, listed.length);
});

const backupDir = fs.mkdtempSync(path.join(os.tmpdir(), 'route-table-backups-'));
test.after.always(() => fs.rmSync(backupDir, { recursive: true, force: true }));

for (const backend of backends) {
  let f!: Fixtures;
  let ids!: Record<Who, string>;
  test.before(async () => {
    const s = await startTestServer(backend, { ...NO_PROCESSES, BACKUP_DIR: backupDir });
    const read = (name: string) => fs.readFileSync(path.join(repoRoot, 'processes', name));
    await s.services.deployments.deploy(oneResource(`${PLAN}.bpmn`, read(`${PLAN}.bpmn`)));
    await s.services.deployments.deploy(oneResource('security-incident.bpmn', read('security-incident.bpmn')));
    await s.services.deployments.deploy(oneResource('external-check.bpmn', fixture('external-check.bpmn')));
    await s.services.deployments.deploy(oneResource('deadlines.bpmn', fixture('deadlines.bpmn')));
    await s.services.deployments.deploy(oneResource('task-error.bpmn', fixture('forms-rest/task-error.bpmn')));
    await s.services.deployments.deploy(oneResource('task-escalation.bpmn', fixture('forms-rest/task-escalation.bpmn')));
    // with-form's Camunda Form task, offered to the network group here.
    const withForm = Buffer.from(fixture('with-form.bpmn').toString('utf8').replace('candidateGroups="data-security"', 'candidateGroups="network-security"')
      .replace('<bpmn:startEvent id="start" />', '<bpmn:startEvent id="start" camunda:formKey="camunda-forms:deployment:catalogue.form" />'));
    await s.services.deployments.deploy({ ...oneResource('with-form.bpmn', withForm), resources: [
      { name: 'with-form.bpmn', bytes: withForm }, { name: 'catalogue.form', bytes: fixture('catalogue.form') },
    ] });
    ids = { admin: ADMIN.user, office: 'office-rt', network: 'network-rt', worker: 'worker-rt' };
    const c: Record<Who, Client> = {
      admin: client(s.url, ADMIN.user, ADMIN.password),
      office: await makeUser(s, 'office-rt', ['office']),
      network: await makeUser(s, 'network-rt', ['network-security']),
      worker: await makeUser(s, 'worker-rt', ['workers']),
    };
    let deployments = 0;
    f = {
      s, c,
      async plan() {
        const pi = (await c.office.post(`/engine-rest/process-definition/key/${PLAN}/start`, { variables: vars({ title: '规划', planType: 'plan' }) })).body.id;
        const [task] = await s.services.tasks.list({ processInstanceId: pi }, adminPrincipal);
        return { pi, task: task.id };
      },
      async external(lockedBy) {
        const { instance } = await s.services.instances.startByKey('external-check', { variables: { mode: { type: 'String', value: 'ok' } } }, adminPrincipal);
        const [row] = await s.db('external_tasks').where({ process_instance_id: instance.id });
        // Locked as fetchAndLock would: the worker id the client chose and the account that fetched (worker-rt).
        if (lockedBy) await s.db('external_tasks').where({ id: row.id }).update({ worker_id: lockedBy, lock_user_id: ids.worker, lock_expiration_time: new Date(Date.now() + 600_000) });
        return { pi: instance.id, id: row.id };
      },
      async job() {
        const { instance } = await s.services.instances.startByKey('long-wait', { variables: {} }, adminPrincipal);
        return (await s.db('timers').where({ process_instance_id: instance.id }))[0].id;
      },
      async deployment() {
        const bytes = Buffer.from(fixture('no-match.bpmn').toString('utf8').replace(/<\/bpmn:definitions>/, `<!-- ${++deployments} --></bpmn:definitions>`));
        const r = await s.services.deployments.deploy(oneResource(`route-table-${deployments}.bpmn`, bytes));
        const [resource] = await s.db('resources').where({ deployment_id: r.deployment.id });
        return { id: r.deployment.id, resource: resource.id, definition: r.definitions[0].id };
      },
    };
  });
  test.after.always(async () => f?.s.stop());

  test.serial(`${backend.name}: HEAD on every API route is refused before anything runs: 405, no trace row, nothing sent`, async (t) => {
    const heads = routedRoutes().filter(isHead).map((r) => r.replace(/^HEAD /, 'GET ')).filter((r) => !OPEN.has(r));
    t.true(heads.length > 40);
    for (const rc of cases.filter((c) => heads.includes(c.route))) {
      const call = await rc.make(f);
      const [{ last }] = await f.s.db('trace').max({ last: 'id' });
      const auth = rc.as === 'admin' ? `${ADMIN.user}:${ADMIN.password}` : `${ids[rc.as]}:${ids[rc.as]}-password`;
      const res = await fetch(`${f.s.url}/engine-rest${call.url}`, { method: 'HEAD', headers: { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } });
      t.is(res.status, 405, `HEAD ${rc.route}`);
      t.is(res.headers.get('content-disposition'), null, 'no file name, no size');
      t.is((await f.s.db('trace').where('id', '>', last ?? 0)).length, 0, `HEAD ${rc.route} left a trace row`);
    }
  });

  for (const rc of cases.filter((c) => !c.on || c.on === backend.name)) {
    test.serial(`${backend.name}: ${rc.route}: 401 without credentials, refused for the wrong caller, traced for the right one`, async (t) => {
      const [method] = rc.route.split(' ');
      const send = async (who: Who | null, url: string, body: unknown) => {
        const caller = who ? f.c[who] : client(f.s.url);
        if (body === 'multipart') {
          const form = new FormData();
          form.append('deployment-name', `rt-${Math.random()}`);
          form.append('data', new Blob([fixture('no-match.bpmn')]), 'rt.bpmn');
          // What a task attachment links to (a deployment ignores form fields it does not know).
          form.append('url', 'https://example.org/rt');
          const headers: Record<string, string> = {};
          if (who) headers.Authorization = `Basic ${Buffer.from(who === 'admin' ? `${ADMIN.user}:${ADMIN.password}` : `${ids[who]}:${ids[who]}-password`).toString('base64')}`;
          const res = await fetch(`${f.s.url}/engine-rest${url}`, { method, headers, body: form });
          return { status: res.status, body: await res.text() };
        }
        return caller.raw(method, `/engine-rest${url}`, method === 'GET' || method === 'DELETE' ? undefined : body ?? {});
      };
      const anon = await rc.make(f);
      t.is((await send(null, anon.url, anon.body)).status, 401, 'no credentials');
      if (rc.wrong) {
        const attempt = await rc.make(f);
        const r = await send(rc.wrong, attempt.url, attempt.body);
        t.true(r.status === 403 || r.status === 404, `${rc.wrong} got ${r.status} ${JSON.stringify(r.body)}`);
      }
      const call = await rc.make(f);
      const [{ last }] = await f.s.db('trace').max({ last: 'id' });
      const r = await send(rc.as, call.url, call.body);
      t.true(r.status >= 200 && r.status < 300, `${rc.as} got ${r.status} ${JSON.stringify(r.body)}`);
      const rows = await f.s.db('trace').where('id', '>', last ?? 0).andWhere('user_id', ids[rc.as]).orderBy('id');
      t.deepEqual(rows.map((x: { operation: string; entity_type: string }) => `${x.operation} ${x.entity_type}`), rc.trace);
      for (const x of rows) t.regex(String(x.source), /127\.0\.0\.1/);
      if (call.pi) t.deepEqual(rows.map((x: { process_instance_id: string | null }) => x.process_instance_id), rc.trace.map(() => call.pi), 'rows name the instance');
    });
  }
}
