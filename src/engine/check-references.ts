import type { ModdleElement, ParseResult } from 'bpmn-moddle';

/**
 * Element types whose references never reach execution. Camunda 7 reads
 * neither diagram interchange (DI), nor collaboration drawings (participants,
 * message flows), nor interfaces, lanes, groups and annotations when it runs
 * a process, so a reference from one of them to something missing (a
 * Signavio export whose process was renamed, a plane left behind by a
 * deleted pool) is deployed there with at most a warning. Everything else
 * (a flow's source or target, an event's messageRef, attachedToRef, a
 * default flow...) changes what runs and stays a refusal.
 */
const DESCRIPTIVE = new Set([
  'bpmn:Participant', 'bpmn:MessageFlow', 'bpmn:Association', 'bpmn:Collaboration', 'bpmn:Operation', 'bpmn:Interface',
  'bpmn:ConversationLink', 'bpmn:Conversation', 'bpmn:SubConversation', 'bpmn:CallConversation', 'bpmn:ConversationAssociation',
  'bpmn:ParticipantAssociation', 'bpmn:MessageFlowAssociation', 'bpmn:Lane', 'bpmn:LaneSet', 'bpmn:Group', 'bpmn:CategoryValue',
  'bpmn:TextAnnotation', 'bpmn:EndPoint', 'bpmn:PartnerEntity', 'bpmn:PartnerRole',
]);

type Warning = ParseResult['warnings'][number];

/** Whether a moddle warning is only about drawing or documentation: an unresolved reference from DI or a descriptive element. */
export function isTolerable(warning: Warning): boolean {
  if (!/^unresolved reference </.test(warning.message)) return false;
  const type = String(warning.element?.$type ?? '');
  return /^(bpmndi|di|dc):/.test(type) || DESCRIPTIVE.has(type);
}

/** The id to name for a warning: the element's own, or (for DI, which often has none) the id it points at. */
export function warningElementId(warning: Warning): string | undefined {
  const element = warning.element as ModdleElement | undefined;
  return element?.id ?? undefined;
}
