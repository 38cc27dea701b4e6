import test from 'ava';
import { compileResource } from '../../src/engine/compile.ts';
import { ParseError } from '../../src/errors.ts';

/** A user task carrying `extension` inside its extensionElements. */
const withExtension = (extension: string) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait" />
    <bpmn:userTask id="wait"><bpmn:extensionElements>${extension}</bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="e" />
    <bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>`;

// Task listeners and script parameters are not run by the adapter yet: a javascript one
// would pass the language check and then be skipped, which is "accepted and then wrong".
for (const [what, extension] of [
  ['an input parameter', '<camunda:inputOutput><camunda:inputParameter name="x"><camunda:script scriptFormat="javascript">1 + 1</camunda:script></camunda:inputParameter></camunda:inputOutput>'],
] as const) {
  test(`a javascript script in ${what} is refused at deployment, naming the element, rather than skipped`, async (t) => {
    const err = await t.throwsAsync(compileResource('listener.bpmn', withExtension(extension)), { instanceOf: ParseError });
    t.regex(err.message, /ENGINE-09005/);
    t.regex(err.message, /element wait/);
    t.regex(err.message, /not run by this server yet/);
  });
}

test('the same task without a script deploys', async (t) => {
  const [compiled] = await compileResource('plain.bpmn', withExtension(''));
  t.is(compiled?.key, 'p');
});

// Start and end execution listeners on a flow node run (camunda-extension.ts, test/conformance/listeners.test.ts).
test('javascript start/end execution listeners and create/assignment/complete/delete/update task listeners on a user task deploy', async (t) => {
  const listener = (event: string, kind = 'executionListener') => `<camunda:${kind} event="${event}"><camunda:script scriptFormat="javascript">execution.setVariable("x", 1)</camunda:script></camunda:${kind}>`;
  const tasks = ['create', 'assignment', 'complete', 'delete', 'update'].map((e) => listener(e, 'taskListener')).join('');
  const [compiled] = await compileResource('listener.bpmn', withExtension(listener('start') + listener('end') + tasks));
  t.is(compiled?.key, 'p');
});

test('timeout task listeners without a timer say why they are refused', async (t) => {
  const timeout = await t.throwsAsync(compileResource('t.bpmn', withExtension('<camunda:taskListener event="timeout"><camunda:script scriptFormat="javascript">1</camunda:script></camunda:taskListener>')), { instanceOf: ParseError });
  t.regex(timeout.message, /needs one timer definition \(timeDate, timeDuration or timeCycle\) with a valid literal value or expression/);
});

// An expression timer is resolved when the task is created (test/conformance/listeners-timeout.test.ts).
test('a javascript timeout task listener whose timer is an expression deploys', async (t) => {
  const [compiled] = await compileResource('t.bpmn', withExtension('<camunda:taskListener event="timeout" id="t1"><camunda:script scriptFormat="javascript">task.setVariable("x", 1)</camunda:script><bpmn:timerEventDefinition><bpmn:timeDuration>${wait}</bpmn:timeDuration></bpmn:timerEventDefinition></camunda:taskListener>'));
  t.is(compiled?.key, 'p');
});

// Their timers are armed with the task and fired by the scheduler (test/conformance/listeners-timeout.test.ts).
test('a javascript timeout task listener with one literal timer deploys', async (t) => {
  const [compiled] = await compileResource('t.bpmn', withExtension('<camunda:taskListener event="timeout" id="t1"><camunda:script scriptFormat="javascript">task.setVariable("x", 1)</camunda:script><bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></camunda:taskListener>'));
  t.is(compiled?.key, 'p');
});

test('a listener in expression form is refused, saying that form is not run yet', async (t) => {
  const err = await t.throwsAsync(compileResource('e.bpmn', withExtension('<camunda:taskListener event="banana" expression="${task.setVariable(\'x\', 1)}" />')), { instanceOf: ParseError });
  t.regex(err.message, /element wait/);
  t.regex(err.message, /in expression form a listener runs only where its script form runs/);
});

test('an execution listener script in another language is refused, naming the element and the language', async (t) => {
  const err = await t.throwsAsync(compileResource('listener.bpmn', withExtension('<camunda:executionListener event="start"><camunda:script scriptFormat="groovy">execution.setVariable("x", 1)</camunda:script></camunda:executionListener>')), { instanceOf: ParseError });
  t.regex(err.message, /element wait/);
  t.regex(err.message, /groovy; only javascript is run/);
});

test('execution listeners on the process and take listeners on a flow deploy; on a flow into a join they are refused', async (t) => {
  const script = '<camunda:script scriptFormat="javascript">execution.setVariable("x", 1)</camunda:script>';
  const onProcess = withExtension('').replace('<bpmn:process id="p" isExecutable="true">', `<bpmn:process id="p" isExecutable="true"><bpmn:extensionElements><camunda:executionListener event="start">${script}</camunda:executionListener><camunda:executionListener event="end">${script}</camunda:executionListener></bpmn:extensionElements>`);
  const [compiled] = await compileResource('process.bpmn', onProcess);
  t.is(compiled?.key, 'p');
  const take = `<bpmn:extensionElements><camunda:executionListener event="take">${script}</camunda:executionListener></bpmn:extensionElements>`;
  const onFlow = withExtension('').replace('<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait" />', `<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait">${take}</bpmn:sequenceFlow>`);
  const [flow] = await compileResource('flow.bpmn', onFlow);
  t.is(flow?.key, 'p');
  const intoJoin = withExtension('')
    .replace('<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait" />', `<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="fork" /><bpmn:parallelGateway id="fork" /><bpmn:sequenceFlow id="fa" sourceRef="fork" targetRef="wait" /><bpmn:sequenceFlow id="fb" sourceRef="fork" targetRef="join">${take}</bpmn:sequenceFlow><bpmn:parallelGateway id="join" />`)
    .replace('<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="e" />', '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="join" /><bpmn:sequenceFlow id="f3" sourceRef="join" targetRef="e" />');
  const err2 = await t.throwsAsync(compileResource('join.bpmn', intoJoin), { instanceOf: ParseError });
  t.regex(err2.message, /element fb\b/);
  t.regex(err2.message, /not run by this server yet/);
  t.regex(err2.message, /a joining gateway is entered once all its tokens are in/);
});

test('listeners on a boundary event deploy (run when it fires); on a multi-instance activity they are refused, naming the element', async (t) => {
  const script = '<camunda:script scriptFormat="javascript">execution.setVariable("x", 1)</camunda:script>';
  const listener = `<bpmn:extensionElements><camunda:executionListener event="start">${script}</camunda:executionListener></bpmn:extensionElements>`;
  const onBoundary = withExtension('').replace('<bpmn:endEvent id="e" />', `<bpmn:endEvent id="e" /><bpmn:boundaryEvent id="b" attachedToRef="wait">${listener}<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="e" />`);
  const [boundary] = await compileResource('boundary.bpmn', onBoundary);
  t.is(boundary?.key, 'p');
  const onMulti = withExtension(`<camunda:executionListener event="start">${script}</camunda:executionListener>`).replace('</bpmn:extensionElements></bpmn:userTask>', '</bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>');
  const err2 = await t.throwsAsync(compileResource('multi.bpmn', onMulti), { instanceOf: ParseError });
  t.regex(err2.message, /element wait\b/);
  t.regex(err2.message, /not run by this server yet/);
});
