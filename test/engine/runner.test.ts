import test from 'ava';
import { compileResource } from '../../src/engine/compile.ts';
import { EngineRunError, signalActivity, startProcess } from '../../src/engine/runner.ts';
import { fixture } from '../helpers/fixtures.ts';

async function compiled() {
  const [p] = await compileResource('no-match.bpmn', fixture('no-match.bpmn').toString());
  return { id: 'no-match:1', compiled: p.compiled };
}

test('a waiting task resolves its expressions; the saved state holds neither the source nor the variables', async (t) => {
  const def = await compiled();
  const run = await startProcess(def, { variables: { owner: 'wang', deadline: '2026-12-01T10:00:00+08:00', secret: 'S3CRET-VALUE' } });
  t.false(run.completed);
  t.is(run.openedTasks.length, 1);
  const [task] = run.openedTasks;
  t.is(task.assignee, 'wang');
  t.deepEqual(task.candidateGroups, ['office']);
  t.is(task.due?.toISOString(), '2026-12-01T02:00:00.000Z');
  const saved = JSON.stringify(run.state);
  t.false(saved.includes('S3CRET-VALUE'), 'variables live in their own table');
  t.false(saved.includes('"source"'), 'the compiled definition is stored once per version');
  t.deepEqual(run.variables.secret, 'S3CRET-VALUE');
});

test('manual tasks pass through; a gateway with no matching flow fails the run and nothing moves', async (t) => {
  const def = await compiled();
  const started = await startProcess(def, { variables: {} });
  const task = started.openedTasks[0];
  const open = new Set(started.activities.filter((a) => a.kind === 'start').map((a) => a.executionId));
  const err = await t.throwsAsync(
    signalActivity(def, { state: structuredClone(started.state), variables: { choice: 'maybe' }, openExecutions: open, activityId: task.activityId, executionId: task.executionId }),
    { instanceOf: EngineRunError },
  );
  t.truthy(err.message);
  const done = await signalActivity(def, { state: structuredClone(started.state), variables: { choice: 'yes' }, openExecutions: open, activityId: task.activityId, executionId: task.executionId });
  t.true(done.completed);
  t.deepEqual(done.closedWaitExecutions, [task.executionId]);
  t.true(done.activities.some((a) => a.activityId === 'manual' && a.kind === 'end'));
});

test('signalling an execution that is not waiting is refused, not silently saved', async (t) => {
  const def = await compiled();
  const started = await startProcess(def, { variables: {} });
  await t.throwsAsync(
    signalActivity(def, { state: started.state, variables: {}, openExecutions: new Set(), activityId: 'decide', executionId: 'decide_doesnotexist' }),
    { instanceOf: EngineRunError },
  );
});

const namesItself = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="names-itself" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
    <bpmn:userTask id="first" camunda:assignee="\${execution.businessKey}" />
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second" />
    <bpmn:userTask id="second" camunda:assignee="\${execution.processInstanceId}" />
  </bpmn:process>
</bpmn:definitions>`;

test("Camunda's execution object names the instance in expressions, on start and after a resume; a variable of that name still wins", async (t) => {
  const [p] = await compileResource('names-itself.bpmn', namesItself);
  const def = { id: 'names-itself:1', compiled: p.compiled };
  const info = { processInstanceId: 'pi-42', businessKey: 'INC-2026-7', processDefinitionId: def.id };
  const started = await startProcess(def, { variables: {}, execution: info });
  t.is(started.openedTasks[0].assignee, 'INC-2026-7');
  const [first] = started.openedTasks;
  const open = new Set(started.activities.filter((a) => a.kind === 'start').map((a) => a.executionId));
  const next = await signalActivity(def, { state: structuredClone(started.state), variables: {}, openExecutions: open, activityId: first.activityId, executionId: first.executionId, execution: info });
  t.is(next.openedTasks[0].assignee, 'pi-42');
  const shadowed = await startProcess(def, { variables: { execution: { businessKey: 'from-a-variable' } }, execution: info });
  t.is(shadowed.openedTasks[0].assignee, 'from-a-variable');
  const without = await startProcess(def, { variables: {} });
  t.is(without.openedTasks[0].assignee ?? null, null, 'no execution given: nothing to name');
});
