import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { ADMIN } from '../helpers/server.ts';
import { assertRefusedFixture } from './helpers.ts';
import { complete, conformanceSuite, openKeys, start, stateOf, type Conformance } from './events-kit.ts';

/*
 * Business rule tasks with camunda:decisionRef (Camunda 7): the decision is
 * evaluated synchronously when the task runs, by the binding the task names,
 * and its result mapped into the result variable by camunda:mapDecisionResult
 * as Camunda's result mappers do. A failing evaluation fails the run like any
 * failing element: a person's command is refused (400, nothing saved), a
 * timer's run fails as a job (retries, then a failedJob incident). The
 * history rows of an evaluation are written in the transaction that saves
 * the run, so a crash (kill -9) keeps both or neither: there is no moment at
 * which one is committed without the other.
 */

const fixtures = path.resolve(import.meta.dirname, 'fixtures');
const HOUR = 3_600_000;

/** Deploys fixture files together (one deployment), as Camunda Modeler sends them; returns the answer. */
async function deploy(c: Conformance, name: string, files: string[]): Promise<any> {
  const form = new FormData();
  form.append('deployment-name', name);
  for (const f of files) form.append(f, new Blob([fs.readFileSync(path.join(fixtures, f))]), f);
  const res = await fetch(`${c.server.url}/engine-rest/deployment/create`, {
    method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`deploy ${files.join(', ')}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** An instance's variables as a Camunda client reads them, Json values parsed. */
async function values(c: Conformance, id: string): Promise<Record<string, unknown>> {
  const r = await c.admin.get(`/engine-rest/process-instance/${id}/variables`);
  if (r.status !== 200) throw new Error(`variables: ${r.status} ${JSON.stringify(r.body)}`);
  return Object.fromEntries(Object.entries(r.body as Record<string, { type: string; value: unknown }>)
    .map(([k, v]) => [k, v.type === 'Json' && typeof v.value === 'string' ? JSON.parse(v.value) : v.value]));
}

/** Starts `key`, expecting a refusal: the answer. */
async function refusedStart(c: Conformance, key: string, variables: Record<string, unknown>) {
  return c.office.post(`/engine-rest/process-definition/key/${key}/start`, { variables: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, { value: v }])) });
}

const count = async (c: Conformance, what: string) => (await c.admin.get(`/engine-rest/${what}/count`)).body.count as number;

conformanceSuite([], 'brt', (c, t, clockOf) => {
  const clock = clockOf as ManualClock;

  // Deployed by the first test: a before hook of this file could run beside the suite's own, before its server is up.
  let meals: Promise<unknown> | undefined;
  const ensureMeals = () => (meals ??= deploy(c, 'meals', ['brt-meal.dmn', 'brt-map.bpmn', 'brt-expr.bpmn']));

  test.serial(t('each result mapping as Camunda defines it: singleEntry a value, singleResult a map, collectEntries a list of values, resultList a list of maps'), async (t) => {
    await ensureMeals();
    const id = await start(c, 'brt-map', { season: 'winter', guests: 5 });
    t.deepEqual(await openKeys(c, id), ['check'], 'the tasks completed at once');
    const v = await values(c, id);
    t.is(v.dish, 'roast');
    t.deepEqual(v.meal, { dish: 'roast', drink: 'tea' });
    t.deepEqual(v.items, ['bread', 'soup'], 'COLLECT: one value per matched rule, in rule order');
    t.deepEqual(v.list, [{ item: 'bread' }, { item: 'soup' }]);
    t.false('decisionResult' in v, 'the transient decision result is not kept');
    await complete(c, id, 'check');
    t.is(await stateOf(c, id), 'COMPLETED');
  });

  test.serial(t('no match: singleEntry and singleResult give null, collectEntries and resultList an empty list'), async (t) => {
    await ensureMeals();
    const id = await start(c, 'brt-map', { season: 'spring', guests: 0 });
    const v = await values(c, id);
    t.is(v.dish, null);
    t.is(v.meal, null);
    t.deepEqual(v.items, []);
    t.deepEqual(v.list, []);
  });

  test.serial(t('singleEntry of several results or of a result with several outputs fails the command: 400 naming the task, nothing saved'), async (t) => {
    await ensureMeals();
    const before = { instances: await count(c, 'history/process-instance'), decisions: await count(c, 'history/decision-instance') };
    const several = await refusedStart(c, 'brt-expr', { decision: 'brt-items', guests: 5 });
    t.is(several.status, 400);
    t.is(several.body.type, 'ProcessEngineException');
    t.regex(several.body.message, /evaluate[\s\S]*2 results[\s\S]*singleEntry/);
    const outputs = await refusedStart(c, 'brt-expr', { decision: 'brt-meal', season: 'winter' });
    t.is(outputs.status, 400);
    t.regex(outputs.body.message, /evaluate[\s\S]*several outputs \(dish, drink\)/);
    t.is(await count(c, 'history/process-instance'), before.instances, 'no instance stored');
    t.is(await count(c, 'history/decision-instance'), before.decisions, 'no evaluation recorded');
  });

  test.serial(t('a decisionRef expression evaluates the decision it names when the task runs'), async (t) => {
    await ensureMeals();
    const id = await start(c, 'brt-expr', { decision: 'brt-one', season: 'winter' });
    t.is((await values(c, id)).out, 'roast');
  });

  test.serial(t('a decision not deployed: the command fails with a ProcessEngineException naming the task and the key, nothing stored'), async (t) => {
    await ensureMeals();
    const before = await count(c, 'history/process-instance');
    const r = await refusedStart(c, 'brt-expr', { decision: 'brt-nowhere' });
    t.is(r.status, 400);
    t.is(r.body.type, 'ProcessEngineException');
    t.regex(r.body.message, /evaluate[\s\S]*no decision definition deployed with key 'brt-nowhere'/);
    t.is(await count(c, 'history/process-instance'), before);
  });

  test.serial(t('bindings: latest the newest version when the task runs, deployment the one deployed with the process, version and versionTag the one named'), async (t) => {
    await ensureMeals();
    await deploy(c, 'dish 1', ['brt-dish-1.dmn']);
    await deploy(c, 'dish 2 with the process', ['brt-dish-2.dmn', 'brt-bind.bpmn']);
    const early = await start(c, 'brt-bind', { season: 'winter' });
    t.like(await values(c, early), { latestDish: 'stew', deploymentDish: 'stew', versionDish: 'roast', tagDish: 'roast' });
    await deploy(c, 'dish 3', ['brt-dish-3.dmn']);
    const late = await start(c, 'brt-bind', { season: 'winter' });
    t.like(await values(c, late), { latestDish: 'hotpot', deploymentDish: 'stew', versionDish: 'roast', tagDish: 'roast' }, 'only latest follows the new version');
    t.is((await values(c, early)).latestDish, 'stew', 'an instance past the task keeps what it got');
  });

  test.serial(t('history: a process-invoked evaluation names its instance, definition and task, with its inputs and outputs'), async (t) => {
    await ensureMeals();
    const id = await start(c, 'brt-map', { season: 'winter', guests: 1 });
    const r = await c.admin.get(`/engine-rest/history/decision-instance?processInstanceId=${id}&includeInputs=true&includeOutputs=true`);
    t.is(r.status, 200);
    const byTask = new Map<string, any>(r.body.map((d: any) => [d.activityId, d]));
    t.deepEqual([...byTask.keys()].sort(), ['collect', 'entry', 'list', 'result']);
    const entry = byTask.get('entry');
    t.like(entry, { decisionDefinitionKey: 'brt-one', processDefinitionKey: 'brt-map', processInstanceId: id, activityId: 'entry' });
    t.truthy(entry.activityInstanceId);
    t.regex(entry.processDefinitionId, /^brt-map:/);
    t.deepEqual(entry.inputs.map((i: any) => i.value), ['winter']);
    t.deepEqual(entry.outputs.map((o: any) => [o.variableName, o.value, o.ruleId]), [['dish', 'roast', 'one-winter']]);
    t.deepEqual(byTask.get('collect').outputs.map((o: any) => o.value), ['bread']);
  });

  test.serial(t('a UNIQUE violation: a person\'s command is refused naming the rules; a timer\'s run fails as a job, retries, then raises a failedJob incident naming them, and runs once fixed'), async (t) => {
    await ensureMeals();
    await deploy(c, 'timer', ['brt-timer.bpmn']);
    const refused = await refusedStart(c, 'brt-expr', { decision: 'brt-dish', season: 'autumn' });
    t.is(refused.status, 400);
    t.regex(refused.body.message, /dish-autumn-pie[\s\S]*dish-autumn-soup|dish-autumn-soup[\s\S]*dish-autumn-pie/);

    const id = await start(c, 'brt-timer', { season: 'autumn' });
    clock.advance(HOUR);
    const [job] = (await c.admin.get(`/engine-rest/job?processInstanceId=${id}`)).body;
    t.is(await c.server.scheduler.runDue(), 0);
    for (const wait of [1000, 2000]) {
      clock.advance(wait);
      t.is(await c.server.scheduler.runDue(), 0);
    }
    t.like((await c.admin.get(`/engine-rest/job/${job.id}`)).body, { retries: 0 });
    const incidents = async () => (await c.admin.get(`/engine-rest/incident?processInstanceId=${id}`)).body;
    const [incident] = await incidents();
    t.like(incident, { incidentType: 'failedJob', activityId: 'wait', configuration: job.id });
    t.regex(incident.incidentMessage, /dish-autumn-pie[\s\S]*dish-autumn-soup|dish-autumn-soup[\s\S]*dish-autumn-pie/);
    t.deepEqual(await openKeys(c, id), [], 'the instance still waits at its timer');
    t.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/season`, { value: 'winter', type: 'String' })).status, 204);
    t.is((await c.admin.post(`/engine-rest/job/${job.id}/execute`, {})).status, 204);
    t.deepEqual(await openKeys(c, id), ['check']);
    t.deepEqual(await incidents(), [], 'its incident is resolved');
    t.is((await values(c, id)).dish, 'hotpot', 'the latest version when it ran');
  });

  test.serial(t('a Date variable reaches the decision as a date, as Camunda passes it'), async (t) => {
    await deploy(c, 'when', ['brt-when.dmn', 'brt-when.bpmn']);
    const startOn = async (due: string) => {
      const r = await c.office.post('/engine-rest/process-definition/key/brt-when/start', { variables: { due: { value: due, type: 'Date' } } });
      if (r.status !== 200) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.id as string;
    };
    const early = await startOn('2026-01-15T10:00:00.000+0800');
    const late = await startOn('2026-12-15T10:00:00.000+0800');
    t.is((await values(c, early)).part, 'early');
    t.is((await values(c, late)).part, 'late');
    const [h] = (await c.admin.get(`/engine-rest/history/decision-instance?processInstanceId=${early}&includeInputs=true`)).body;
    t.is(h.inputs[0].type, 'Date');
  });

  test.serial(t('a catch-all error boundary event does not catch the task\'s own failures (Camunda catches only a BpmnError): an expression key still evaluates, an undeployed key or a UNIQUE violation fails the command'), async (t) => {
    await ensureMeals();
    await deploy(c, 'caught', ['brt-caught.bpmn']);
    const id = await start(c, 'brt-caught', { decision: 'brt-one', season: 'winter' });
    t.deepEqual(await openKeys(c, id), ['check'], 'the decision named by the expression was read and evaluated, not caught');
    t.is((await values(c, id)).out, 'roast');
    const before = await count(c, 'history/process-instance');
    const nowhere = await refusedStart(c, 'brt-caught', { decision: 'brt-nowhere' });
    t.is(nowhere.status, 400);
    t.regex(nowhere.body.message, /evaluate[\s\S]*no decision definition deployed with key 'brt-nowhere'/);
    const unique = await refusedStart(c, 'brt-caught', { decision: 'brt-dish', season: 'autumn' });
    t.is(unique.status, 400);
    t.regex(unique.body.message, /dish-autumn-pie[\s\S]*dish-autumn-soup|dish-autumn-soup[\s\S]*dish-autumn-pie/);
    t.is(await count(c, 'history/process-instance'), before, 'nothing went down the error path');
  });

  test.serial(t('process variables named content, fields and properties reach the decision as they are'), async (t) => {
    await deploy(c, 'shadow', ['brt-shadow.dmn', 'brt-shadow.bpmn']);
    const id = await start(c, 'brt-shadow', { content: 'hello', fields: 'f', properties: 'p' });
    t.is((await values(c, id)).seen, 'all three');
    const [h] = (await c.admin.get(`/engine-rest/history/decision-instance?processInstanceId=${id}&includeInputs=true`)).body;
    t.deepEqual(h.inputs.map((i: any) => i.value), ['hello', 'f', 'p']);
  });

  test.serial(t('a decisionRefVersion expression that is not an integer 1..2147483647 fails the command: 400 naming the task, nothing stored'), async (t) => {
    await ensureMeals();
    await deploy(c, 'ver', ['brt-ver.bpmn']);
    const before = await count(c, 'history/process-instance');
    for (const ver of ['abc', '1.5', 99999999999, 0, -1]) {
      const r = await refusedStart(c, 'brt-ver', { ver, season: 'winter' });
      t.is(r.status, 400, `ver ${ver}`);
      t.is(r.body.type, 'ProcessEngineException');
      t.regex(r.body.message, /byVersion[\s\S]*\/[\s\S]*byVersion[\s\S]*decisionRefVersion/, `ver ${ver}: ${r.body.message}`);
    }
    t.is(await count(c, 'history/process-instance'), before);
    const id = await start(c, 'brt-ver', { ver: 1, season: 'winter' });
    t.is((await values(c, id)).out, 'roast');
  });

  test.serial(t('six business rule tasks each naming its decision by an expression all evaluate in one command'), async (t) => {
    await deploy(c, 'many', ['brt-many.dmn', 'brt-many.bpmn']);
    const keys = Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`d${i}`, `brt-m${i}`]));
    const id = await start(c, 'brt-many', { ...keys, season: 'any' });
    const v = await values(c, id);
    t.deepEqual([1, 2, 3, 4, 5, 6].map((i) => v[`out${i}`]), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  });

  test.serial(t('history: a decision evaluated in a called instance names the top caller as rootProcessInstanceId'), async (t) => {
    await deploy(c, 'caller', ['brt-when.dmn', 'brt-when.bpmn', 'brt-caller.bpmn']);
    const r = await c.office.post('/engine-rest/process-definition/key/brt-caller/start', { variables: { due: { value: '2026-01-15T10:00:00.000+0800', type: 'Date' } } });
    t.is(r.status, 200, JSON.stringify(r.body));
    const root = r.body.id as string;
    const [child] = (await c.admin.get(`/engine-rest/process-instance?superProcessInstance=${root}`)).body;
    t.truthy(child, 'the called instance runs');
    const [h] = (await c.admin.get(`/engine-rest/history/decision-instance?processInstanceId=${child.id}`)).body;
    t.like(h, { processInstanceId: child.id, rootProcessInstanceId: root, activityId: 'evaluate' });
  });

  test.serial(t('the result variable goes where Camunda\'s setVariable puts it: a multi-instance sub-process instance\'s own variable of that name, else the process variable'), async (t) => {
    await ensureMeals();
    await deploy(c, 'scope', ['brt-scope.bpmn']);
    const r = await c.office.post('/engine-rest/process-definition/key/brt-scope/start', { variables: { seasons: { value: JSON.stringify(['winter']), type: 'Json' } } });
    t.is(r.status, 200, JSON.stringify(r.body));
    const v = await values(c, r.body.id);
    t.is(v.dish, 'roast', 'no local dish: the process variable');
    t.false('season' in v, 'season was the instance\'s element variable: set there, gone with it');
  });

  test.serial(t('a date one business rule task sets reaches a later decision of the same run as a date'), async (t) => {
    await deploy(c, 'chain', ['brt-chain.dmn', 'brt-when.dmn', 'brt-chain.bpmn']);
    const id = await start(c, 'brt-chain', { season: 'winter' });
    t.is((await values(c, id)).part, 'early');
    const h = (await c.admin.get(`/engine-rest/history/decision-instance?processInstanceId=${id}&activityIdIn=second&includeInputs=true`)).body;
    t.is(h[0].inputs[0].type, 'Date');
  });

  test.serial(t('refused at deployment, naming each element: version binding without a version, versionTag binding without a tag, an unknown binding or mapper, the result variable decisionResult, an empty key'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'brt-refused', [
      ['noVersion', /binding "version" needs camunda:decisionRefVersion/],
      ['noTag', /binding "versionTag" needs camunda:decisionRefVersionTag/],
      ['badBinding', /camunda:decisionRefBinding="newest" is not one of/],
      ['badMapper', /camunda:mapDecisionResult="firstResult" is not a decision result mapper/],
      ['reserved', /camunda:resultVariable cannot be "decisionResult"/],
      ['emptyRef', /camunda:decisionRef is empty/],
      ['localResult', /camunda:resultVariable "dish" is also one of the task's input parameters/],
    ]);
  });
}, () => new ManualClock(new Date('2026-12-01T01:00:00Z')));
