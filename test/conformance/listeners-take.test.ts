import test from 'ava';
import { assertRefusedFixture } from './helpers.ts';
import { assertNothingOpen, complete, conformanceSuite, openKeys, start, variablesOf } from './events-kit.ts';

/*
 * Execution listeners on sequence flows (`take`), script and expression
 * form, as Camunda 7 runs them: when the flow is taken, after the `end`
 * listeners of the element it leaves and before anything of the element it
 * leads to (its input parameters, its `start` listeners); a flow not taken
 * runs none; what they set is saved with the command; a failing one fails
 * it. Camunda reads every execution listener on a flow as a take listener
 * (the `event` attribute is ignored), and its execution is still at the
 * flow's source. Flows into a join and out of an event-based gateway are
 * refused (their take would not happen when Camunda's does).
 */

conformanceSuite(['take-listeners'], 'take', (c, t) => {
  test.serial(t('take listeners run between the source\'s end and the target\'s start, their variables saved and read by the target\'s input parameters'), async (t) => {
    const id = await start(c, 'take-listeners');
    const vars = (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.deepEqual(JSON.parse(vars.log.value), ['start:end', 'f1:take:start', 'review:start:5'], 'end(start) → take(f1) → start(review), base set by the take read by the input parameter');
    t.is(vars.takenFrom?.value, 'start', 'the expression listener (no event attribute) ran; the execution is at the flow\'s source');
    t.deepEqual(await openKeys(c, id), ['review']);
    await complete(c, id, 'review', { verdict: 'ok' });
    await assertNothingOpen(t, c, id);
    const after = await variablesOf(c, id);
    t.deepEqual(JSON.parse(String(after.log)), ['start:end', 'f1:take:start', 'review:start:5', 'review:end', 'fYes:take', 'done:start']);
    t.false('noTaken' in after, 'a flow not taken runs no listener');
  });

  test.serial(t('the take listener of the flow the gateway chose runs, in expression form'), async (t) => {
    const id = await start(c, 'take-listeners');
    await complete(c, id, 'review', { verdict: 'no' });
    t.deepEqual(await openKeys(c, id), ['again']);
    const vars = (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.is(vars.noTaken?.value, true);
    t.deepEqual(JSON.parse(vars.log.value), ['start:end', 'f1:take:start', 'review:start:5', 'review:end']);
    await complete(c, id, 'again');
    await assertNothingOpen(t, c, id);
  });

  test.serial(t('a failing take listener fails the completion with 400 naming the flow; nothing is saved'), async (t) => {
    const id = await start(c, 'take-listeners');
    const [task] = (await c.office.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    const r = await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: { verdict: { value: 'boom' } } });
    t.is(r.status, 400, JSON.stringify(r.body));
    t.regex(r.body.message, /fBoom.*take refused/);
    t.deepEqual(await openKeys(c, id), ['review']);
    const vars = (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.is(vars.verdict, undefined);
    t.deepEqual(JSON.parse(vars.log.value), ['start:end', 'f1:take:start', 'review:start:5'], 'the end listener\'s change went with the failed command');
  });

  test.serial(t('take listeners on a flow into a join or out of an event-based gateway are refused, naming the flow'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'take-listeners-refused', [
      ['intoJoin', /the take listener on this sequence flow is not run by this server: a joining gateway is entered once all its tokens are in/],
      ['toMessage', /not taken in Camunda \(the event that fires is run directly\)/],
    ]);
  });
});
