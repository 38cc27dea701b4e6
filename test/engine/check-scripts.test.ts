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

// Listeners and input/output parameters are not run by the adapter yet: a javascript one
// would pass the language check and then be skipped, which is "accepted and then wrong".
for (const [what, extension] of [
  ['an execution listener', '<camunda:executionListener event="start"><camunda:script scriptFormat="javascript">execution.setVariable("x", 1)</camunda:script></camunda:executionListener>'],
  ['a task listener', '<camunda:taskListener event="create"><camunda:script scriptFormat="javascript">task.setVariable("x", 1)</camunda:script></camunda:taskListener>'],
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
