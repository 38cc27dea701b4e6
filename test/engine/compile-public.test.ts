import test from 'ava';
import { compileResource } from '../../src/engine/compile.ts';
import { ParseError } from '../../src/errors.ts';

/** A one-task process; `properties` goes into the process's extension elements, `start` replaces the start event. */
function diagram(options: { properties?: string; start?: string; field?: string } = {}): string {
  const field = options.field ?? '<camunda:formField id="name" label="姓名 / Name" type="string" />';
  const start = options.start ?? `<bpmn:startEvent id="start"><bpmn:extensionElements><camunda:formData>${field}</camunda:formData></bpmn:extensionElements></bpmn:startEvent>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    ${options.properties ? `<bpmn:extensionElements><camunda:properties>${options.properties}</camunda:properties></bpmn:extensionElements>` : ''}
    ${start}
    <bpmn:userTask id="task" camunda:candidateGroups="office" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
  </bpmn:process>
</bpmn:definitions>`;
}

test('a process is public only by the explicit process property public=true', async (t) => {
  t.false((await compileResource('p.bpmn', diagram()))[0].isPublic);
  t.false((await compileResource('p.bpmn', diagram({ properties: '<camunda:property name="public" value="false" />' })))[0].isPublic);
  t.false((await compileResource('p.bpmn', diagram({ properties: '<camunda:property name="other" value="true" />' })))[0].isPublic);
  t.true((await compileResource('p.bpmn', diagram({ properties: '<camunda:property name="public" value="true" />' })))[0].isPublic);
});

test('a doubtful public flag is refused at deployment, naming the process', async (t) => {
  const err = await t.throwsAsync(compileResource('p.bpmn', diagram({ properties: '<camunda:property name="public" value="yes" />' })), { instanceOf: ParseError });
  t.regex(err.message, /public must be true or false/);
  t.regex(err.message, /element p/);
});

test('a public process needs a none start event, and start form fields of types the server checks', async (t) => {
  const flag = '<camunda:property name="public" value="true" />';
  const noStart = diagram({
    properties: flag,
    start: '<bpmn:startEvent id="start"><bpmn:messageEventDefinition messageRef="m" /></bpmn:startEvent>',
  }).replace('</bpmn:definitions>', '<bpmn:message id="m" name="m" /></bpmn:definitions>');
  t.regex((await t.throwsAsync(compileResource('p.bpmn', noStart), { instanceOf: ParseError })).message, /needs a none start event/);
  const custom = diagram({ properties: flag, field: '<camunda:formField id="blob" label="附件 / Blob" type="file" />' });
  t.regex((await t.throwsAsync(compileResource('p.bpmn', custom), { instanceOf: ParseError })).message, /blob .*type file/);
});

test('form field properties are kept with the form, e.g. sensitive=true for personal data', async (t) => {
  const field = `<camunda:formField id="idNumber" label="身份证号 / ID number" type="string">
    <camunda:properties><camunda:property id="sensitive" value="true" /></camunda:properties></camunda:formField>
    <camunda:formField id="name" label="姓名 / Name" type="string" />`;
  const [p] = await compileResource('p.bpmn', diagram({ field }));
  t.deepEqual(p.forms.start?.map((f) => [f.id, f.properties]), [['idNumber', { sensitive: 'true' }], ['name', undefined]]);
});
