import Router from '@koa/router';
import type { Logger } from 'pino';
import { ValidationError } from '../../errors.ts';
import type { PublicProcess, PublicRequestService, PublicRequestStatus } from '../../services/public-requests.ts';
import { PUBLIC_USER, type FormField } from '../../types.ts';
import { formatDate } from '../format.ts';
import { makeBodyReader } from '../body.ts';
import { bodyObject } from '../params.ts';

/** A start form field as a public web form needs it: label, type, limits, options. */
function fieldDto(f: FormField) {
  const config = (name: string) => {
    const c = f.constraints.find((x) => x.name === name);
    return c?.config == null || c.config === '' ? null : Number(c.config);
  };
  return {
    id: f.id, label: f.label, type: f.type, required: f.constraints.some((c) => c.name === 'required'),
    minLength: config('minlength'), maxLength: config('maxlength'), min: config('min'), max: config('max'),
    options: f.type === 'enum' ? f.values.map((v) => ({ id: v.id, name: v.name })) : null,
  };
}

const processDto = (p: PublicProcess) => ({ key: p.key, name: p.name, startForm: p.fields.map(fieldDto) });

const statusDto = (s: PublicRequestStatus) => ({
  processDefinitionKey: s.processKey,
  processName: s.processName,
  state: s.state,
  stateName: { running: '办理中', completed: '已办结', closed: '已终止' }[s.state],
  startTime: formatDate(s.startTime),
  endTime: formatDate(s.endTime),
  stepsDone: s.stepsDone,
  currentSteps: s.currentSteps,
  outcome: s.outcome,
});

/** Refuses a body with members the route does not take, naming them. */
function onlyMembers(body: Record<string, unknown>, allowed: string[]): void {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length) throw new ValidationError(`请求体包含不支持的成员 / request body has unsupported members: ${extra.join(', ')}`);
}

/**
 * The internet zone's whole API, under `/public`. The body is parsed only on
 * these routes, so any other path answers 404 whatever is sent to it.
 */
export function makePublicRequestRoutes(deps: { publicRequests: PublicRequestService; log: Logger; bodyLimit: number }): Router {
  const router = new Router({ prefix: '/public' });
  // The same body rules as the private API's: JSON only, UTF-8, bounded in size and depth.
  const json = makeBodyReader({ limit: deps.bodyLimit });

  router.get('/process', async (ctx) => {
    ctx.body = (await deps.publicRequests.processes()).map(processDto);
  });
  router.get('/process/:key', async (ctx) => {
    ctx.body = processDto(await deps.publicRequests.process(ctx.params.key));
  });
  router.post('/process/:key/start', json, async (ctx) => {
    const body = bodyObject(ctx);
    onlyMembers(body, ['variables']);
    const started = await deps.publicRequests.start(ctx.params.key, body.variables, ctx.state.clientAddress);
    // The reference is never logged: it is the citizen's only key to the request.
    deps.log.info({ key: ctx.params.key, startUser: PUBLIC_USER }, 'public request started');
    ctx.body = { reference: started.reference, status: statusDto(started.status) };
  });
  // The reference travels in the body, not the path: paths end up in proxy access logs and browser history.
  router.post('/request/status', json, async (ctx) => {
    const body = bodyObject(ctx);
    onlyMembers(body, ['reference']);
    ctx.body = statusDto(await deps.publicRequests.status(body.reference, ctx.state.clientAddress));
  });
  return router;
}
