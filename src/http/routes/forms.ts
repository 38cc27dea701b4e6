import Router, { type RouterContext } from '@koa/router';
import { ValidationError } from '../../errors.ts';
import type { DefinitionService } from '../../services/definitions.ts';
import type { DeployedForm, FormService } from '../../services/form-access.ts';
import type { TaskService } from '../../services/tasks.ts';
import { parseVariables } from '../../services/variables.ts';
import { principalOf } from '../auth.ts';
import { formatVariables } from '../format.ts';
import { bodyObject } from '../params.ts';
import { answerCompletion } from '../read-trace.ts';
import { instanceDto } from './instances.ts';

/*
 * Camunda's form routes: the form key of a task or start event, the
 * generated HTML form, the form deployed with the process, and submitting
 * a form (completing the task, or starting an instance).
 */

/**
 * Markup from a deployment or a diagram, served as Camunda serves it: a
 * browser opening it directly gets an inert, sandboxed document (no script,
 * no same-origin access to the API), and never a sniffed type.
 */
function sendMarkup(ctx: RouterContext, body: string | Buffer, contentType: string): void {
  ctx.set('Content-Security-Policy', 'sandbox');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.body = body;
  // Set after the body (which sets a type of its own) and as given: Camunda sends no charset.
  ctx.set('Content-Type', contentType);
}

const sendDeployed = (ctx: RouterContext, form: DeployedForm) => sendMarkup(ctx, form.bytes, form.contentType);

export function makeFormRoutes(deps: { forms: FormService; definitions: DefinitionService; tasks: TaskService }): Router {
  const router = new Router();
  const latest = async (key: string) => (await deps.definitions.getLatest(key)).id;

  router.get('/task/:id/form', async (ctx) => {
    ctx.body = await deps.forms.taskForm(ctx.params.id, principalOf(ctx));
  });
  router.get('/task/:id/rendered-form', async (ctx) => {
    sendMarkup(ctx, await deps.forms.renderedTaskForm(ctx.params.id, principalOf(ctx)), 'application/xhtml+xml');
  });
  router.get('/task/:id/deployed-form', async (ctx) => {
    sendDeployed(ctx, await deps.forms.deployedTaskForm(ctx.params.id, principalOf(ctx)));
  });
  router.post('/task/:id/submit-form', async (ctx) => {
    const body = bodyObject(ctx);
    const principal = principalOf(ctx);
    await answerCompletion(ctx, body, async () => (await deps.tasks.visibleTask(ctx.params.id, principal)).process_instance_id,
      (withVariables) => deps.forms.submitTaskForm(ctx.params.id, parseVariables(body.variables), principal, withVariables), formatVariables);
  });

  const byIdAndKey = (suffix: string, handler: (ctx: RouterContext, definitionId: string) => Promise<void>, method: 'get' | 'post' = 'get') => {
    router[method](`/process-definition/key/:key/${suffix}`, async (ctx) => handler(ctx, await latest(ctx.params.key!)));
    router[method](`/process-definition/:id/${suffix}`, async (ctx) => handler(ctx, ctx.params.id!));
  };
  byIdAndKey('startForm', async (ctx, id) => {
    ctx.body = await deps.forms.startForm(id, principalOf(ctx));
  });
  byIdAndKey('rendered-form', async (ctx, id) => {
    sendMarkup(ctx, await deps.forms.renderedStartForm(id, principalOf(ctx)), 'application/xhtml+xml');
  });
  byIdAndKey('deployed-start-form', async (ctx, id) => {
    sendDeployed(ctx, await deps.forms.deployedStartForm(id, principalOf(ctx)));
  });
  byIdAndKey('submit-form', async (ctx, id) => {
    const body = bodyObject(ctx);
    if (body.businessKey != null && typeof body.businessKey !== 'string') throw new ValidationError('businessKey 必须是文本 / businessKey must be a string');
    const started = await deps.forms.submitStartForm(id, { variables: parseVariables(body.variables), businessKey: body.businessKey as string | undefined }, principalOf(ctx));
    ctx.body = instanceDto(started.instance, ctx);
  }, 'post');
  return router;
}
