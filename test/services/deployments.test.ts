import test from 'ava';
import { ParseError } from '../../src/errors.ts';
import { makeServices } from '../../src/server.ts';
import { backends, type TestDb } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { testKeyring } from '../helpers/server.ts';

for (const backend of backends) {
  let testDb!: TestDb;
  let s!: ReturnType<typeof makeServices>;
  test.before(async () => {
    testDb = await backend.create();
    s = makeServices(testDb.db, testKeyring());
  });
  test.after.always(async () => testDb?.drop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const count = async (table: string) => Number((await testDb.db(table).count({ n: '*' }))[0].n);

  test.serial(t('resource bytes are stored unchanged'), async (t) => {
    const bytes = fixture('parallel-review.bpmn');
    const r = await s.deployments.deploy(oneResource('parallel-review.bpmn', bytes));
    const row = await testDb.db('resources').where({ deployment_id: r.deployment.id }).first();
    t.true(Buffer.compare(row.bytes, bytes) === 0);
    t.is(r.definitions.length, 1);
    t.is(r.definitions[0].key, 'parallel-review');
    t.is(r.definitions[0].name, '并行验收');
  });

  test.serial(t('an unchanged file gets no new version with duplicate filtering; a changed one gets n+1'), async (t) => {
    const a = fixture('two-versions-a.bpmn');
    const first = await s.deployments.deploy(oneResource('v.bpmn', a, { filter: true }));
    t.is(first.definitions[0].version, 1);
    const again = await s.deployments.deploy(oneResource('v.bpmn', a, { filter: true }));
    t.true(again.duplicate);
    t.is(again.deployment.id, first.deployment.id);
    t.deepEqual((await s.definitions.list({ key: 'versioned' })).map((d) => d.version), [1]);
    const changed = await s.deployments.deploy(oneResource('v.bpmn', fixture('two-versions-b.bpmn'), { filter: true }));
    t.is(changed.definitions[0].version, 2);
    const latest = await s.definitions.list({ key: 'versioned', latestVersion: true });
    t.deepEqual(latest.map((d) => d.version), [2]);
    // Without filtering, Camunda deploys a new version even for identical XML.
    const unfiltered = await s.deployments.deploy(oneResource('v.bpmn', a));
    t.is(unfiltered.definitions[0].version, 3);
  });

  test.serial(t('running instances stay on the version they started with'), async (t) => {
    const v1 = await s.deployments.deploy(oneResource('pin.bpmn', Buffer.from(fixture('two-versions-a.bpmn').toString().replaceAll('versioned', 'pinned'))));
    t.is(v1.definitions[0].version, 1);
    const started = await s.instances.startByKey('pinned', { variables: {} }, adminPrincipal);
    await s.deployments.deploy(oneResource('pin.bpmn', Buffer.from(fixture('two-versions-b.bpmn').toString().replaceAll('versioned', 'pinned'))));
    const [task] = await s.tasks.list({ processInstanceId: started.instance.id }, adminPrincipal);
    t.is(task.name, '第一步 v1');
    await s.tasks.complete(task.id, {}, adminPrincipal);
    // v1 ends after its only task; v2 would have opened a second task.
    t.deepEqual(await s.tasks.list({ processInstanceId: started.instance.id }, adminPrincipal), []);
    const instance = await s.instances.get(started.instance.id, adminPrincipal);
    t.is(instance.state, 'COMPLETED');
    const newer = await s.instances.startByKey('pinned', { variables: {} }, adminPrincipal);
    const [first] = await s.tasks.list({ processInstanceId: newer.instance.id }, adminPrincipal);
    t.is(first.name, '第一步 v2');
  });

  test.serial(t('a file with a bad expression is refused with element, line and column; nothing is written'), async (t) => {
    const before = await Promise.all(['deployments', 'resources', 'process_definitions'].map(count));
    const err = await t.throwsAsync(
      s.deployments.deploy({ ...oneResource('good-and-bad', fixture('parallel-review.bpmn')), resources: [
        { name: 'parallel-review-2.bpmn', bytes: fixture('parallel-review.bpmn') },
        { name: 'broken-condition.bpmn', bytes: fixture('broken-condition.bpmn') },
      ] }),
      { instanceOf: ParseError },
    );
    t.true(err.message.startsWith('ENGINE-09005 Could not parse BPMN process.'));
    const details = err.details as Record<string, { errors: { mainElementId: string; line: number; column: number }[] }>;
    const [problem] = details['broken-condition.bpmn'].errors;
    t.is(problem.mainElementId, 'yes');
    t.is(problem.line, 7);
    t.is(problem.column, 5);
    t.deepEqual(await Promise.all(['deployments', 'resources', 'process_definitions'].map(count)), before);
  });

  test.serial(t('unknown elements and malformed XML are refused with their position'), async (t) => {
    const unknown = await t.throwsAsync(s.deployments.deploy(oneResource('u.bpmn', fixture('unknown-element.bpmn'))), { instanceOf: ParseError });
    t.regex(unknown.message, /fancyTask/);
    t.regex(unknown.message, /line 6/);
    const malformed = await t.throwsAsync(s.deployments.deploy(oneResource('m.bpmn', Buffer.from('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p">'))), { instanceOf: ParseError });
    t.regex(malformed.message, /ENGINE-09005/);
    const notBpmn = await t.throwsAsync(s.deployments.deploy(oneResource('n.bpmn', Buffer.from('hello'))), { instanceOf: ParseError });
    t.regex(notBpmn.message, /n\.bpmn/);
  });

  test.serial(t('processes/ is deployed at start-up and redeploying it changes nothing'), async (t) => {
    const { deployed: first } = await s.deployments.deployDirectory('processes');
    t.true(first.some((r) => r.definitions.some((d) => d.key === 'security-plan-approval')));
    t.is(first[0]!.deployment.name, 'incident-routing.dmn', 'decision tables first, one deployment per file');
    t.deepEqual(first[0]!.decisions.decisions.map((d) => [d.key, d.version]), [['incident-routing', 1]]);
    const { deployed: second } = await s.deployments.deployDirectory('processes');
    t.is(second.length, first.length, 'every file looked at again');
    t.true(second.every((r) => r.duplicate && r.definitions.length === 0 && r.decisions.decisions.length === 0));
  });
}
