import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../errors.ts';
import { makeModdle } from '../engine/moddle.ts';
import { findResourceByName, listFormResources } from '../store/deployments.ts';
import type { DefinitionRow } from '../store/definitions.ts';
import type { TaskRow } from '../store/tasks.ts';
import type { FormField, Principal, Variables } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import { assertMayStart, type InstanceService, type StartedInstance } from './instances.ts';
import { renderForm } from './rendered-forms.ts';
import type { TaskService } from './tasks.ts';
import { validateSubmission } from './forms.ts';

/** Camunda's FormDto: the form key, the process application's context path (none here), the Camunda Form reference. */
export interface FormKey {
  key: string | null;
  contextPath: string | null;
  camundaFormRef: { key: string; binding: string; version: number | null } | null;
}

/** A deployed form's bytes with the content type Camunda answers it with. */
export interface DeployedForm {
  bytes: Buffer;
  contentType: string;
}

interface FormSource {
  formKey: string | null;
  formRef: string | null;
  binding: string;
  version: number | null;
  fields: FormField[];
  deploymentId: string;
}

/**
 * Camunda's FormService over REST: which form a task or a start event has,
 * the generated HTML form of its `camunda:formField`s, the form deployed
 * with it, and submitting it. Reads go through the same visibility as the
 * task itself (or, for a start form, the right to start the process).
 */
export function makeFormService(db: Knex, definitions: DefinitionService, tasks: TaskService, instances: InstanceService) {
  // A definition version never changes: an element's form attributes are read from its XML once.
  const attributes = new Map<string, Promise<{ formKey: string | null; formRef: string | null; binding: string; version: number | null }>>();

  async function formAttributes(definitionId: string, elementId: string) {
    const cacheKey = `${definitionId}\u0000${elementId}`;
    if (!attributes.has(cacheKey)) {
      attributes.set(cacheKey, (async () => {
        const { rootElement } = await makeModdle().fromXML(await definitions.xml(definitionId));
        const element = findById(rootElement, elementId);
        const attr = (name: string): string | null => {
          const v = element?.[name] ?? element?.$attrs?.[`camunda:${name}`];
          return typeof v === 'string' && v ? v : null;
        };
        const version = attr('formRefVersion');
        return { formKey: attr('formKey'), formRef: attr('formRef'), binding: attr('formRefBinding') ?? 'latest', version: version && /^\d+$/.test(version) ? Number(version) : null };
      })().catch((err) => {
        attributes.delete(cacheKey);
        throw err;
      }));
      if (attributes.size > 1000) attributes.delete(attributes.keys().next().value!);
    }
    return attributes.get(cacheKey)!;
  }

  async function taskSource(task: TaskRow): Promise<FormSource> {
    const def = await definitions.load(task.definition_id);
    // The key and reference as resolved when the task was created; the binding as the diagram says.
    const { binding, version } = task.form_ref ? await formAttributes(task.definition_id, task.task_definition_key) : { binding: 'latest', version: null };
    return { formKey: task.form_key, formRef: task.form_ref, binding, version, fields: def.forms[task.task_definition_key] ?? [], deploymentId: def.deploymentId };
  }

  async function startSource(definitionId: string, principal: Principal): Promise<FormSource> {
    const row = await definitions.get(definitionId);
    assertMayStart(row, principal);
    const def = await definitions.load(row.id);
    const attrs = row.start_event_id ? await formAttributes(row.id, row.start_event_id) : { formKey: null, formRef: null, binding: 'latest', version: null };
    return { ...attrs, fields: (row.start_event_id && def.forms[row.start_event_id]) || [], deploymentId: row.deployment_id };
  }

  /** Camunda points a form without a key but with fields at its generated form. */
  function formKeyOf(src: FormSource, renderedPath: string): FormKey {
    const camundaFormRef = src.formRef ? { key: src.formRef, binding: src.binding, version: src.version } : null;
    const key = src.formKey ?? (!camundaFormRef && src.fields.length ? `embedded:engine://engine/:engine/${renderedPath}/rendered-form` : null);
    return { key, contextPath: null, camundaFormRef };
  }

  /**
   * Camunda's AbstractGetDeployedFormCmd: the resource a `deployment:` form
   * key names in the element's deployment, or the latest Camunda Form whose
   * id the formRef names; 400 when the element names no deployed form.
   */
  async function deployed(src: FormSource): Promise<DeployedForm> {
    if (src.formKey != null) {
      const name = /^(?:embedded:|camunda-forms:)?deployment:(.+)$/.exec(src.formKey)?.[1];
      if (!name) throw new ValidationError(`表单键 ${src.formKey} 不指向已部署的表单 / The form key '${src.formKey}' does not reference a deployed form.`);
      const found = await findResourceByName(db, src.deploymentId, name);
      if (!found) throw new NotFoundError(`部署 ${src.deploymentId} 中没有表单 ${name} / The form with the resource name '${name}' cannot be found in deployment with id ${src.deploymentId}`);
      return { bytes: Buffer.from(found.bytes), contentType: name.endsWith('.form') ? 'application/json' : 'application/xhtml+xml' };
    }
    if (src.formRef != null) {
      // `.form` resources have no versions here: binding latest finds the newest deployment's, deployment the element's own.
      if (src.binding === 'version') {
        throw new ValidationError(`不支持按版本绑定表单 ${src.formRef} / camunda:formRefBinding="version" of form ${src.formRef} is not supported: deployed forms have no versions here; use latest or deployment`);
      }
      for (const r of await listFormResources(db, src.binding === 'deployment' ? src.deploymentId : undefined)) {
        if (formIdOf(r.bytes) === src.formRef) return { bytes: Buffer.from(r.bytes), contentType: 'application/json' };
      }
      throw new NotFoundError(`未部署表单 ${src.formRef} / No Camunda Form Definition was found for Camunda Form Ref: ${src.formRef}`);
    }
    throw new ValidationError("未设置 formKey 或 camunda:formRef / One of the attributes 'formKey' and 'camunda:formRef' must be supplied but none were set.");
  }

  return {
    async taskForm(id: string, principal: Principal): Promise<FormKey> {
      return formKeyOf(await taskSource(await tasks.openTask(id, principal)), `task/${id}`);
    },
    async startForm(definitionId: string, principal: Principal): Promise<FormKey> {
      return formKeyOf(await startSource(definitionId, principal), `process-definition/${definitionId}`);
    },
    async renderedTaskForm(id: string, principal: Principal): Promise<string> {
      const html = renderForm((await taskSource(await tasks.openTask(id, principal))).fields);
      if (html == null) throw new NotFoundError(`任务 ${id} 没有生成的表单 / No matching rendered form for task with the id ${id} found.`);
      return html;
    },
    async renderedStartForm(definitionId: string, principal: Principal): Promise<string> {
      const html = renderForm((await startSource(definitionId, principal)).fields);
      if (html == null) throw new NotFoundError(`流程定义 ${definitionId} 没有生成的启动表单 / No matching rendered start form for process definition with the id ${definitionId} found.`);
      return html;
    },
    async deployedTaskForm(id: string, principal: Principal): Promise<DeployedForm> {
      return deployed(await taskSource(await tasks.visibleTask(id, principal)));
    },
    async deployedStartForm(definitionId: string, principal: Principal): Promise<DeployedForm> {
      return deployed(await startSource(definitionId, principal));
    },

    /**
     * Camunda's submitTaskForm: a delegated task goes back to its owner
     * (resolve), any other is completed; the form's fields are checked either way.
     */
    async submitTaskForm(id: string, submitted: Variables, principal: Principal, returnVariables: boolean): Promise<Variables | null> {
      const task = await tasks.actionableTask(id, principal);
      if (task.delegation_state !== 'PENDING') return tasks.complete(id, submitted, principal, returnVariables);
      const variables = validateSubmission((await taskSource(task)).fields, submitted);
      await tasks.resolve(id, variables, principal);
      return returnVariables ? tasks.variables(id, principal) : null;
    },
    /** Camunda's submitStartForm: starts an instance with the form's values (checked against its fields) and business key. */
    async submitStartForm(definitionId: string, input: { variables: Variables; businessKey?: string | undefined }, principal: Principal): Promise<StartedInstance> {
      return instances.start(definitionId, input, principal);
    },
  };
}

export type FormService = ReturnType<typeof makeFormService>;

function findById(el: any, id: string): any {
  if (!el || typeof el !== 'object') return null;
  if (el.id === id) return el;
  for (const child of [...(el.rootElements ?? []), ...(el.flowElements ?? [])]) {
    const found = findById(child, id);
    if (found) return found;
  }
  return null;
}

/** The `id` of a form-js JSON document, or null when it is not one. */
function formIdOf(bytes: Buffer): string | null {
  try {
    const id = JSON.parse(Buffer.from(bytes).toString('utf8'))?.id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}
