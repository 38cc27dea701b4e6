import { ValidationError } from '../errors.ts';
import type { Variables } from '../types.ts';
import { parseVariables } from './variables.ts';

/*
 * The body of Camunda 7's `POST /process-instance/{id}/modification` (and
 * `/modification/execute`), checked field by field: a mistake is a 400
 * naming the instruction and the field, before anything runs.
 */

export const INSTRUCTION_TYPES = ['cancel', 'startBeforeActivity', 'startAfterActivity', 'startTransition'] as const;

export interface Instruction {
  type: (typeof INSTRUCTION_TYPES)[number];
  activityId?: string | undefined;
  activityInstanceId?: string | undefined;
  transitionInstanceId?: string | undefined;
  transitionId?: string | undefined;
  ancestorActivityInstanceId?: string | undefined;
  cancelCurrentActiveActivityInstances?: boolean | undefined;
  variables?: Variables | undefined;
}

export interface Modification {
  instructions: Instruction[];
  skipCustomListeners: boolean;
  skipIoMappings: boolean;
  annotation?: string | undefined;
  /** The instructions as sent, for the trace. */
  raw: unknown[];
}

const FIELDS: Record<Instruction['type'], string[]> = {
  cancel: ['activityId', 'activityInstanceId', 'transitionInstanceId', 'cancelCurrentActiveActivityInstances'],
  startBeforeActivity: ['activityId', 'ancestorActivityInstanceId', 'variables'],
  startAfterActivity: ['activityId', 'ancestorActivityInstanceId', 'variables'],
  startTransition: ['transitionId', 'ancestorActivityInstanceId', 'variables'],
};

const bad = (index: number, message: string) => new ValidationError(`指令 ${index}: ${message}`, { instruction: index });

/** Reads a modification body (`instructions`, `skipCustomListeners`, `skipIoMappings`, `annotation`). */
export function parseModification(body: Record<string, unknown>): Modification {
  const { instructions, skipCustomListeners, skipIoMappings, annotation } = body;
  if (!Array.isArray(instructions) || !instructions.length) {
    throw new ValidationError('instructions 必须是非空数组 / instructions must be a non-empty array');
  }
  for (const [name, v] of [['skipCustomListeners', skipCustomListeners], ['skipIoMappings', skipIoMappings]] as const) {
    if (v != null && typeof v !== 'boolean') throw new ValidationError(`${name} 必须是布尔值 / ${name} must be a boolean`);
  }
  if (annotation != null && (typeof annotation !== 'string' || annotation.length > 4000)) {
    throw new ValidationError('annotation 必须是不超过 4000 字符的文本 / annotation must be text of at most 4000 characters');
  }
  return {
    instructions: instructions.map(parseInstruction),
    skipCustomListeners: skipCustomListeners === true, skipIoMappings: skipIoMappings === true,
    annotation: (annotation as string | null | undefined) ?? undefined, raw: instructions,
  };
}

function parseInstruction(raw: unknown, index: number): Instruction {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(index, '必须是对象 / must be an object');
  const r = raw as Record<string, unknown>;
  const type = r.type as Instruction['type'];
  if (!INSTRUCTION_TYPES.includes(type)) throw bad(index, `type 必须是 ${INSTRUCTION_TYPES.join(', ')} 之一 / type must be one of ${INSTRUCTION_TYPES.join(', ')}`);
  const unknown = Object.keys(r).filter((k) => k !== 'type' && !FIELDS[type].includes(k) && r[k] != null);
  if (unknown.length) throw bad(index, `${type} 不接受 ${unknown.join(', ')} / ${type} takes no ${unknown.join(', ')}`);
  for (const k of ['activityId', 'activityInstanceId', 'transitionInstanceId', 'transitionId', 'ancestorActivityInstanceId']) {
    if (r[k] != null && (typeof r[k] !== 'string' || !r[k])) throw bad(index, `${k} 必须是文本 / ${k} must be a non-empty string`);
  }
  const out: Instruction = {
    type, activityId: r.activityId as string | undefined, activityInstanceId: r.activityInstanceId as string | undefined,
    transitionInstanceId: r.transitionInstanceId as string | undefined, transitionId: r.transitionId as string | undefined,
    ancestorActivityInstanceId: r.ancestorActivityInstanceId as string | undefined,
    cancelCurrentActiveActivityInstances: r.cancelCurrentActiveActivityInstances === true,
  };
  if (type === 'cancel') {
    const given = ['activityId', 'activityInstanceId', 'transitionInstanceId'].filter((k) => r[k] != null);
    if (given.length !== 1) throw bad(index, 'cancel 需要 activityId、activityInstanceId、transitionInstanceId 之一 / cancel needs exactly one of activityId, activityInstanceId, transitionInstanceId');
    if (out.transitionInstanceId) throw bad(index, '本服务器没有异步延续，因此没有过渡实例 / this server has no asynchronous continuations, so no transition instances to cancel');
    if (out.cancelCurrentActiveActivityInstances && !out.activityId) throw bad(index, 'cancelCurrentActiveActivityInstances 只能与 activityId 一起使用 / cancelCurrentActiveActivityInstances goes with activityId only');
    return out;
  }
  if (type === 'startTransition' ? !out.transitionId : !out.activityId) throw bad(index, `${type} 需要 ${type === 'startTransition' ? 'transitionId' : 'activityId'} / ${type} needs ${type === 'startTransition' ? 'transitionId' : 'activityId'}`);
  out.variables = parseInstructionVariables(index, r.variables);
  return out;
}

/** Camunda's `{ name: { value, type, local } }`; local variables are refused (this server sets process variables only here). */
function parseInstructionVariables(index: number, raw: unknown): Variables {
  if (raw == null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw bad(index, 'variables 必须是对象 / variables must be an object');
  const plain: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    if (v && typeof v === 'object' && 'local' in v) {
      const { local, ...rest } = v as Record<string, unknown>;
      if (local === true) throw bad(index, `变量 ${name}: 不支持局部变量（local: true）/ variable ${name}: local variables are not supported here`);
      plain[name] = rest;
    } else plain[name] = v;
  }
  try {
    return parseVariables(plain, `instructions[${index}].variables`);
  } catch (err) {
    if (err instanceof ValidationError) throw bad(index, err.message);
    throw err;
  }
}
