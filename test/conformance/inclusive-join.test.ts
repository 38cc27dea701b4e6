import test from 'ava';
import { assertRefusedFixture } from './helpers.ts';
import { complete, finishWith, openKeys, passed, start, stateOf, conformanceSuite } from './events-kit.ts';

/*
 * The inclusive join waits for every token that can still reach it (Camunda
 * 7): with two of three conditional flows taken, completing one branch does
 * not pass the join while the other's task is open. Each completion is a run
 * of its own on the saved state, so the join's wait survives save and recovery.
 * A join on a cycle, where that cannot hold, is refused at deployment.
 */

conformanceSuite(['inclusive-join.bpmn'], 'incl', (c, t) => {

  test.serial(t('two of three flows taken: the join waits for the second branch, then passes once'), async (t) => {
    const id = await start(c, 'inclusive-join', { a: true, b: false, c: true });
    t.deepEqual(await openKeys(c, id), ['taskA', 'taskC']);
    await complete(c, id, 'taskC');
    t.deepEqual(await openKeys(c, id), ['taskA'], 'the join waits: taskA can still reach it');
    t.false((await passed(c, id)).includes('join'));
    await complete(c, id, 'taskA');
    t.deepEqual(await openKeys(c, id), ['after'], 'one token past the join, not two');
    await finishWith(t, c, id, 'after', { taskEnds: ['after:completed', 'taskA:completed', 'taskC:completed'] });
    t.false((await passed(c, id)).includes('taskB'));
  });

  test.serial(t('one flow taken: the join passes as soon as that branch completes'), async (t) => {
    const id = await start(c, 'inclusive-join', { a: false, b: true, c: false });
    t.deepEqual(await openKeys(c, id), ['taskB']);
    await complete(c, id, 'taskB');
    t.deepEqual(await openKeys(c, id), ['after']);
    await finishWith(t, c, id, 'after');
  });

  test.serial(t('all three flows taken, completed in any order: the join waits for the last'), async (t) => {
    const id = await start(c, 'inclusive-join', { a: true, b: true, c: true });
    await complete(c, id, 'taskB');
    await complete(c, id, 'taskA');
    t.deepEqual(await openKeys(c, id), ['taskC']);
    t.is(await stateOf(c, id), 'ACTIVE');
    await complete(c, id, 'taskC');
    t.deepEqual(await openKeys(c, id), ['after']);
    await finishWith(t, c, id, 'after');
  });

  test.serial(t('an inclusive join on a cycle is refused at deployment, naming the gateway, and nothing is stored'), async (t) => {
    const body = await assertRefusedFixture(t, c.server, c.admin, 'inclusive-join-loop', [['join', /inclusive gateway join joins on a cycle/]]);
    t.regex(body.message, /包容网关 join.*inclusive gateway join joins on a cycle/s);
    const [problem] = body.details['inclusive-join-loop.bpmn'].errors;
    t.is(problem.mainElementId, 'join');
    t.deepEqual(problem.elementIds, ['join']);
  });
});
