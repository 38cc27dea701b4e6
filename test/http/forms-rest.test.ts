import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda's form routes over real HTTP: form keys, the generated HTML form,
 * forms deployed with the process, and submitting forms, for the office
 * (who may start the process and work its tasks) and refused to the
 * network group (who may do neither).
 */

const KEY = 'form-rest';

for (const backend of backends) {
  let c!: { s: TestServer; office: Client; network: Client; admin: Client; definitionId: string };
  const t = (title: string) => `${backend.name}: ${title}`;

  test.before(async () => {
    const s = await startTestServer(backend, NO_PROCESSES);
    const r = await s.services.deployments.deploy({
      name: 'form-rest', source: 'test', tenantId: null, duplicateFiltering: false, changedOnly: false,
      resources: [{ name: 'form-rest.bpmn', bytes: fixture('forms-rest/form-rest.bpmn') }, { name: 'approve.html', bytes: fixture('forms-rest/approve.html') }],
    });
    c = {
      s, definitionId: r.definitions[0].id,
      admin: client(s.url, ADMIN.user, ADMIN.password),
      office: await makeUser(s, 'office-form', ['office']),
      network: await makeUser(s, 'network-form', ['network-security']),
    };
  });
  test.after.always(async () => c?.s.stop());

  async function startOne(businessKey: string) {
    const r = await c.office.post(`/engine-rest/process-definition/key/${KEY}/submit-form`, { businessKey, variables: vars({ applicant: '王五', amount: '3' }) });
    if (r.status !== 200) throw new Error(`submit-form: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  }
  async function taskAt(instanceId: string, key: string) {
    const [task] = (await c.office.get(`/engine-rest/task?processInstanceId=${instanceId}&taskDefinitionKey=${key}`)).body;
    if (!task) throw new Error(`no ${key} task in ${instanceId}`);
    return task.id as string;
  }

  test.serial(t('the start form key points at the generated form, by id and by key; refused to who may not start'), async (t) => {
    const expected = { key: `embedded:engine://engine/:engine/process-definition/${c.definitionId}/rendered-form`, contextPath: null, camundaFormRef: null };
    const byId = await c.office.get(`/engine-rest/process-definition/${c.definitionId}/startForm`);
    t.is(byId.status, 200);
    t.deepEqual(byId.body, expected);
    t.deepEqual((await c.office.get(`/engine-rest/process-definition/key/${KEY}/startForm`)).body, expected);
    const refused = await c.network.get(`/engine-rest/process-definition/${c.definitionId}/startForm`);
    t.is(refused.status, 403);
    t.is(typeof refused.body.message, 'string');
    const missing = await c.office.get('/engine-rest/process-definition/key/no-such-process/startForm');
    t.is(missing.status, 404);
    t.is(missing.body.type, 'InvalidRequestException');
  });

  test.serial(t('the rendered start form is the HTML Camunda generates from the form fields, its text escaped'), async (t) => {
    const r = await c.office.raw('GET', `/engine-rest/process-definition/key/${KEY}/rendered-form`);
    t.is(r.status, 200);
    t.is(r.headers.get('content-type'), 'application/xhtml+xml');
    t.is(r.headers.get('content-security-policy'), 'sandbox');
    const html = r.body as string;
    t.true(html.startsWith('<form name="generatedForm" role="form">\n'));
    t.true(html.endsWith('</form>\n'));
    t.true(html.includes([
      '  <div class="form-group">',
      '    <label for="applicant">',
      '      申请人 &lt;b&gt;',
      '    </label>',
      '    <input class="form-control" name="applicant" cam-variable-type="String" cam-variable-name="applicant" required type="text" />',
      '    <div ng-if="this.generatedForm.applicant.$invalid &amp;&amp; this.generatedForm.applicant.$dirty" class="has-error">',
      '      <div ng-show="this.generatedForm.applicant.$error.required" class="help-block">',
      '        Required field',
      '      </div>',
      '      <div ng-show="this.generatedForm.applicant.$error.camVariableType" class="help-block">',
      '        Only a string value is allowed',
      '      </div>',
      '    </div>',
      '  </div>',
    ].join('\n')), html);
    t.true(html.includes('<input class="form-control" name="amount" cam-variable-type="Long" cam-variable-name="amount" min="1" type="text" value="10" />'));
    t.true(html.includes('<input class="form-control" name="urgent" cam-variable-type="Boolean" cam-variable-name="urgent" type="checkbox" />'));
    t.true(html.includes('<input class="form-control" name="due" cam-variable-type="String" cam-variable-name="due" type="text" datepicker-popup="dd/MM/yyyy" is-open="dateFieldOpeneddue" />'));
    t.true(html.includes('<select class="form-control" name="level" cam-variable-type="String" cam-variable-name="level">\n      <option value="low">\n        低\n      </option>\n      <option value="high">\n        高 &amp; 急\n      </option>\n    </select>'));
    t.false(html.includes('<b>'));
    t.is((await c.network.get(`/engine-rest/process-definition/${c.definitionId}/rendered-form`)).status, 403);
  });

  test.serial(t('submitting the start form starts an instance with checked, converted values; a wrong form starts nothing'), async (t) => {
    const before = (await c.admin.get(`/engine-rest/process-instance/count?processDefinitionKey=${KEY}`)).body.count;
    const bad = await c.office.post(`/engine-rest/process-definition/${c.definitionId}/submit-form`, { variables: vars({ amount: '0' }) });
    t.is(bad.status, 400);
    t.is(bad.body.type, 'FormFieldValidationException');
    t.regex(bad.body.message, /applicant/);
    t.regex(bad.body.message, /amount/);
    const wrongKey = await c.office.post(`/engine-rest/process-definition/${c.definitionId}/submit-form`, { businessKey: 7, variables: vars({ applicant: 'x' }) });
    t.is(wrongKey.status, 400);
    t.regex(wrongKey.body.message, /businessKey/);
    t.is((await c.network.post(`/engine-rest/process-definition/${c.definitionId}/submit-form`, { variables: vars({ applicant: 'x' }) })).status, 403);
    t.is((await c.admin.get(`/engine-rest/process-instance/count?processDefinitionKey=${KEY}`)).body.count, before, 'nothing started');

    const ok = await c.office.post(`/engine-rest/process-definition/${c.definitionId}/submit-form`, { businessKey: 'F-1', variables: vars({ applicant: '李四', amount: '42', level: 'high' }) });
    t.is(ok.status, 200, JSON.stringify(ok.body));
    t.is(ok.body.businessKey, 'F-1');
    t.is(ok.body.definitionId, c.definitionId);
    t.false(ok.body.ended);
    const v = (await c.admin.get(`/engine-rest/process-instance/${ok.body.id}/variables`)).body;
    t.deepEqual(v.amount, { value: 42, type: 'Long', valueInfo: {} });
    t.is(v.applicant.value, '李四');
    const rows = await c.s.db('trace').where({ process_instance_id: ok.body.id, user_id: 'office-form' });
    t.true(rows.length >= 1, 'the start is traced');
  });

  test.serial(t('a task with form fields: its form key, generated form, no deployed form, and submit-form checks the fields'), async (t) => {
    const pi = await startOne('F-2');
    const id = await taskAt(pi, 'review');
    const form = await c.office.get(`/engine-rest/task/${id}/form`);
    t.is(form.status, 200);
    t.deepEqual(form.body, { key: `embedded:engine://engine/:engine/task/${id}/rendered-form`, contextPath: null, camundaFormRef: null });
    const [row] = await c.s.db('trace').where({ user_id: 'office-form', entity_type: 'Form', entity_id: id }).orderBy('id', 'desc');
    t.is(row.operation, 'Read');
    t.is(row.process_instance_id, pi);

    const rendered = await c.office.raw('GET', `/engine-rest/task/${id}/rendered-form`);
    t.is(rendered.status, 200);
    t.true((rendered.body as string).includes('name="comment" cam-variable-type="String" cam-variable-name="comment" required minlength="2" type="text" />'));
    const deployed = await c.office.get(`/engine-rest/task/${id}/deployed-form`);
    t.is(deployed.status, 400);
    t.regex(deployed.body.message, /One of the attributes 'formKey' and 'camunda:formRef' must be supplied/);

    for (const path of ['form', 'rendered-form', 'deployed-form']) t.is((await c.network.get(`/engine-rest/task/${id}/${path}`)).status, 404, path);
    t.is((await c.network.post(`/engine-rest/task/${id}/submit-form`, { variables: vars({ comment: '同意' }) })).status, 404);

    const bad = await c.office.post(`/engine-rest/task/${id}/submit-form`, { variables: vars({ comment: '好' }) });
    t.is(bad.status, 400);
    t.is(bad.body.type, 'FormFieldValidationException');
    t.is(await taskAt(pi, 'review'), id, 'still open');
    const flag = await c.office.post(`/engine-rest/task/${id}/submit-form`, { withVariablesInReturn: 'yes' });
    t.is(flag.status, 400);

    const ok = await c.office.post(`/engine-rest/task/${id}/submit-form`, { variables: vars({ comment: '同意办理' }), withVariablesInReturn: true });
    t.is(ok.status, 200, JSON.stringify(ok.body));
    t.deepEqual(ok.body.comment, { value: '同意办理', type: 'String', valueInfo: {} });
    t.is(ok.body.applicant.value, '王五');
    const [read] = await c.s.db('trace').where({ operation: 'Read', entity_type: 'Variable', user_id: 'office-form', process_instance_id: pi }).orderBy('id', 'desc');
    t.truthy(read, 'the variables returned are traced as read');
    t.true((typeof read.details === 'string' ? JSON.parse(read.details) : read.details).variables.includes('applicant'));
    t.is((await c.office.get(`/engine-rest/task/${id}/form`)).status, 404, 'completed');
  });

  test.serial(t('an embedded form in the deployment is served from it; a task without a form has none to render or serve'), async (t) => {
    const pi = await startOne('F-3');
    await c.office.post(`/engine-rest/task/${await taskAt(pi, 'review')}/submit-form`, { variables: vars({ comment: '同意办理' }) });
    const id = await taskAt(pi, 'approve');
    t.deepEqual((await c.office.get(`/engine-rest/task/${id}/form`)).body, { key: 'embedded:deployment:approve.html', contextPath: null, camundaFormRef: null });
    const res = await fetch(`${c.s.url}/engine-rest/task/${id}/deployed-form`, { headers: { Authorization: `Basic ${Buffer.from('office-form:office-form-password').toString('base64')}` } });
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), 'application/xhtml+xml');
    t.is(res.headers.get('content-security-policy'), 'sandbox');
    t.is(await res.text(), fixture('forms-rest/approve.html').toString('utf8'));
    const rendered = await c.office.get(`/engine-rest/task/${id}/rendered-form`);
    t.is(rendered.status, 404);
    t.is(rendered.body.message.split(' / ')[1], `No matching rendered form for task with the id ${id} found.`);
    const done = await c.office.post(`/engine-rest/task/${id}/submit-form`, { variables: vars({ approved: true }) });
    t.is(done.status, 204);

    const plain = await taskAt(pi, 'plain');
    t.deepEqual((await c.office.get(`/engine-rest/task/${plain}/form`)).body, { key: null, contextPath: null, camundaFormRef: null });
    const none = await c.office.get(`/engine-rest/task/${plain}/deployed-form`);
    t.is(none.status, 400);
    t.is(none.body.type, 'InvalidRequestException');
    t.is((await c.office.get(`/engine-rest/task/${plain}/rendered-form`)).status, 404);
  });

  test.serial(t('the start event has no deployed form: 400 naming the missing attributes'), async (t) => {
    const r = await c.office.get(`/engine-rest/process-definition/key/${KEY}/deployed-start-form`);
    t.is(r.status, 400);
    t.regex(r.body.message, /formKey/);
    t.is((await c.network.get(`/engine-rest/process-definition/${c.definitionId}/deployed-start-form`)).status, 403);
  });

  test.serial(t('submit-form on a delegated task hands it back to its owner, as Camunda resolves it'), async (t) => {
    const office2 = await makeUser(c.s, `office-form-${backend.name}-2`, ['office']);
    const pi = await startOne('F-4');
    const id = await taskAt(pi, 'review');
    t.is((await c.office.post(`/engine-rest/task/${id}/claim`, { userId: 'office-form' })).status, 204);
    t.is((await c.office.post(`/engine-rest/task/${id}/delegate`, { userId: `office-form-${backend.name}-2` })).status, 204);
    t.is((await office2.post(`/engine-rest/task/${id}/submit-form`, { variables: vars({ comment: '' }) })).status, 400, 'fields checked');
    t.is((await office2.post(`/engine-rest/task/${id}/submit-form`, { variables: vars({ comment: '已核实' }) })).status, 204);
    const task = (await c.office.get(`/engine-rest/task/${id}`)).body;
    t.is(task.assignee, 'office-form');
    t.is(task.delegationState, 'RESOLVED');
  });
}
