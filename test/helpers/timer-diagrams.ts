/** A process whose one timer is of `kind` (intermediate, boundary or start) with `<bpmn:{type}>{value}</bpmn:{type}>`. */
export function timerDiagram(kind: 'intermediate' | 'boundary' | 'start', type: string, value: string, key = 'timed'): string {
  const timer = `<bpmn:timerEventDefinition><bpmn:${type} xsi:type="bpmn:tFormalExpression">${value}</bpmn:${type}></bpmn:timerEventDefinition>`;
  const body = {
    intermediate: `<bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
      <bpmn:intermediateCatchEvent id="wait">${timer}</bpmn:intermediateCatchEvent>
      <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" /><bpmn:endEvent id="end" />`,
    boundary: `<bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
      <bpmn:userTask id="work" /><bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" /><bpmn:endEvent id="end" />
      <bpmn:boundaryEvent id="late" attachedToRef="work">${timer}</bpmn:boundaryEvent>
      <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="end2" /><bpmn:endEvent id="end2" />`,
    start: `<bpmn:startEvent id="tick">${timer}</bpmn:startEvent><bpmn:sequenceFlow id="f1" sourceRef="tick" targetRef="end" /><bpmn:endEvent id="end" />`,
  }[kind];
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="x">
  <bpmn:process id="${key}" isExecutable="true">${body}</bpmn:process>
</bpmn:definitions>`;
}
