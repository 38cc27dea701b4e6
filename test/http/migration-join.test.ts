import test from 'ava';
import { backends } from '../helpers/db.ts';
import { oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Migrating an instance whose token waits at a joining gateway (one branch
 * done, the other open): the token lives only in the join's saved state.
 * A target with the same join, mapped, carries it (the join still waits for
 * the other branch only); a target without it, or a plan that leaves it out,
 * is refused with 400 naming the gateway, never migrated with the token lost.
 * For a parallel and an inclusive join.
 */

/** split → a, b → join → after; without `join`, each branch ends on its own. */
function diagram(key: string, gateway: 'parallelGateway' | 'inclusiveGateway', withJoin: boolean, version: string): string {
  const tail = withJoin
    ? `<bpmn:sequenceFlow id="fa2" sourceRef="a" targetRef="join" />
    <bpmn:sequenceFlow id="fb2" sourceRef="b" targetRef="join" />
    <bpmn:${gateway} id="join" />
    <bpmn:sequenceFlow id="f3" sourceRef="join" targetRef="after" />
    <bpmn:userTask id="after" name="汇总" />
    <bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="end" />
    <bpmn:endEvent id="end" />`
    : `<bpmn:sequenceFlow id="fa2" sourceRef="a" targetRef="endA" />
    <bpmn:sequenceFlow id="fb2" sourceRef="b" targetRef="endB" />
    <bpmn:endEvent id="endA" />
    <bpmn:endEvent id="endB" />`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs-${key}" targetNamespace="http://example.com/test">
  <bpmn:process id="${key}" name="汇聚迁移 ${version}" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:${gateway} id="split" />
    <bpmn:sequenceFlow id="fa" sourceRef="split" targetRef="a" />
    <bpmn:sequenceFlow id="fb" sourceRef="split" targetRef="b" />
    <bpmn:userTask id="a" name="甲" />
    <bpmn:userTask id="b" name="乙" />
    ${tail}
  </bpmn:process>
</bpmn:definitions>`;
}

for (const backend of backends) {
  let s!: TestServer;
  let admin!: Client;
  const ids: Record<string, string> = {};
  test.before(async () => {
    s = await startTestServer(backend, NO_PROCESSES, { runScheduler: false });
    admin = client(s.url, ADMIN.user, ADMIN.password);
    for (const gateway of ['parallelGateway', 'inclusiveGateway'] as const) {
      const key = `join-${gateway}`;
      for (const [v, withJoin] of [['v1', true], ['v2', true], ['v3', false]] as const) {
        ids[`${key}-${v}`] = (await s.services.deployments.deploy(oneResource(`${key}-${v}.bpmn`, Buffer.from(diagram(key, gateway, withJoin, v))))).definitions[0]!.id;
      }
    }
  });
  test.after.always(async () => s?.stop());

  for (const gateway of ['parallelGateway', 'inclusiveGateway'] as const) {
    const key = `join-${gateway}`;
    const t = (title: string) => `${backend.name}: ${gateway}: ${title}`;
    const tasks = async (id: string) => (await admin.get(`/engine-rest/task?processInstanceId=${id}`)).body as { id: string; taskDefinitionKey: string; processDefinitionId: string }[];
    /** An instance of v1 whose branch a is done: its token waits at the join for b. */
    const waiting = async () => {
      const id = (await admin.post(`/engine-rest/process-definition/${ids[`${key}-v1`]}/start`, {})).body.id as string;
      const a = (await tasks(id)).find((x) => x.taskDefinitionKey === 'a')!;
      if ((await admin.post(`/engine-rest/task/${a.id}/complete`, {})).status !== 204) throw new Error('complete a');
      return id;
    };
    const plan = async (target: string) => (await admin.post('/engine-rest/migration/generate', { sourceProcessDefinitionId: ids[`${key}-v1`], targetProcessDefinitionId: ids[`${key}-${target}`] })).body;

    test.serial(t('a target without the join, or a plan leaving it out, is refused naming the gateway; nothing moves'), async (t) => {
      const id = await waiting();
      const toV3 = await plan('v3');
      t.false(toV3.instructions.some((i: any) => i.sourceActivityIds[0] === 'join'));
      const r = await admin.post('/engine-rest/migration/execute', { migrationPlan: toV3, processInstanceIds: [id] });
      t.is(r.status, 400, JSON.stringify(r.body));
      t.is(r.body.type, 'MigratingProcessInstanceValidationException');
      t.regex(r.body.message, /'join'.*token/);
      t.is(r.body.validationReport.activityInstanceValidationReports[0].sourceScopeId, 'join');
      const toV2 = await plan('v2');
      const withoutJoin = { ...toV2, instructions: toV2.instructions.filter((i: any) => i.sourceActivityIds[0] !== 'join') };
      const left = await admin.post('/engine-rest/migration/execute', { migrationPlan: withoutJoin, processInstanceIds: [id] });
      t.is(left.status, 400);
      t.regex(left.body.message, /'join'/);
      const validated = await admin.post('/engine-rest/migration/validate', { migrationPlan: toV3, processInstanceIds: [id] });
      t.is(validated.body.processInstanceReports.length, 1, 'validate names the instance too');
      t.is((await admin.get(`/engine-rest/process-instance/${id}`)).body.definitionId, ids[`${key}-v1`], 'not migrated');
      // An instance with no token at the join (both branches open) goes to v3 as before.
      const fresh = (await admin.post(`/engine-rest/process-definition/${ids[`${key}-v1`]}/start`, {})).body.id as string;
      t.is((await admin.post('/engine-rest/migration/execute', { migrationPlan: toV3, processInstanceIds: [fresh] })).status, 204);
    });

    test.serial(t('a target with the join, mapped, carries the waiting token: finishing the other branch passes the join'), async (t) => {
      const id = await waiting();
      const r = await admin.post('/engine-rest/migration/execute', { migrationPlan: await plan('v2'), processInstanceIds: [id] });
      t.is(r.status, 204, JSON.stringify(r.body));
      const [b] = await tasks(id);
      t.is(b!.taskDefinitionKey, 'b');
      t.is(b!.processDefinitionId, ids[`${key}-v2`]);
      t.is((await admin.post(`/engine-rest/task/${b!.id}/complete`, {})).status, 204);
      const after = await tasks(id);
      t.deepEqual(after.map((x) => x.taskDefinitionKey), ['after'], 'the join had a\'s token: b\'s arrival completes it');
    });
  }
}
