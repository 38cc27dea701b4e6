import test from 'ava';
import { compileResource } from '../../src/engine/compile.ts';
import { ParseError } from '../../src/errors.ts';

/** A process whose body is `inner` between a start and an end event. */
const diagram = (inner: string, start = '<bpmn:startEvent id="s" />') => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    ${start}
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="x" />
    ${inner}
    <bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e" />
    <bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>`;

const io = (body: string) => `<bpmn:extensionElements><camunda:inputOutput>${body}</camunda:inputOutput></bpmn:extensionElements>`;
const input = '<camunda:inputParameter name="a">1</camunda:inputParameter>';
const output = '<camunda:outputParameter name="b">${a}</camunda:outputParameter>';

// What would be accepted and then differ from Camunda 7 is refused, naming the element.
for (const [what, xml, element] of [
  ['input parameters on a sub-process', diagram(`<bpmn:subProcess id="x">${io(input)}<bpmn:startEvent id="in" /></bpmn:subProcess>`), 'x'],
  ['input parameters on a multi-instance task', diagram(`<bpmn:userTask id="x">${io(input)}<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>`), 'x'],
  ['input/output on a start event', diagram('<bpmn:userTask id="x" />', `<bpmn:startEvent id="s">${io(output)}</bpmn:startEvent>`), 's'],
  ['input/output on a boundary event', diagram(`<bpmn:userTask id="x" /><bpmn:boundaryEvent id="b" attachedToRef="x">${io(output)}<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="e" />`), 'b'],
] as const) {
  test(`${what} is refused at deployment, naming the element`, async (t) => {
    const err = await t.throwsAsync(compileResource('io.bpmn', xml), { instanceOf: ParseError });
    t.regex(err.message, /ENGINE-09005/);
    t.regex(err.message, new RegExp(`element ${element}\\b`));
    t.regex(err.message, /inputOutput|input parameters/);
  });
}

test('input and output parameters on a task, and output parameters on a sub-process, deploy', async (t) => {
  const [task] = await compileResource('task.bpmn', diagram(`<bpmn:userTask id="x">${io(input + output)}</bpmn:userTask>`));
  t.is(task?.key, 'p');
  const [sub] = await compileResource('sub.bpmn', diagram(`<bpmn:subProcess id="x">${io('<camunda:outputParameter name="b">2</camunda:outputParameter>')}<bpmn:startEvent id="in" /></bpmn:subProcess>`));
  t.is(sub?.key, 'p');
});
