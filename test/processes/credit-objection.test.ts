import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { compileResource } from '../../src/engine/compile.ts';
import {
  openKeys, passed, refusedForm, startProcess, scenarioSuite, stateOf, step, taskHistory, variablesOf,
} from '../helpers/scenario.ts';
import { client, repoRoot, vars, type Client } from '../helpers/server.ts';

const KEY = 'credit-objection';
const objection = {
  applicantName: '李四', idNumber: '12010519850315002X', contact: 'lisi@example.cn',
  recordObjected: '2026年3月 区税务局 纳税信用D级评定', objectionReason: '已于2026年5月补缴并经复评为B级，D级记录应予更正。',
};
const verified = { recordId: 'HQ-NS-2026-0311', sourceDepartment: '区税务局', verificationFinding: 'inaccurate', verificationNote: '来源部门确认已复评为B级' };
const upheld = { decision: 'upheld', decisionReason: '复评结果已生效，原记录有误' };
const corrected = { correctionAction: 'corrected', correctionNote: '已按复评结果更正为B级', sourceConfirmed: true };
const reply = { replyMethod: 'email', replyDate: '2026-12-08T09:00:00.000+0800', replySummary: '异议成立，记录已更正为B级' };

test('the ID-card number and the contact are marked sensitive, for encryption at rest (D4)', async (t) => {
  const xml = fs.readFileSync(path.join(repoRoot, 'processes', `${KEY}.bpmn`), 'utf8');
  const [p] = await compileResource(`${KEY}.bpmn`, xml);
  t.true(p.isPublic);
  const sensitive = (p.forms[p.startEventId!] ?? []).filter((f) => f.properties?.sensitive === 'true').map((f) => f.id);
  t.deepEqual(sensitive, ['idNumber', 'contact']);
});

scenarioSuite((s, t) => {
  let pub!: Client;
  test.serial.before(() => {
    pub = client(s.server.publicUrl!);
  });

  /** A citizen objects on the public listener; returns the reference and (as only the server knows it) the instance. */
  async function object(values: Record<string, unknown>): Promise<{ reference: string; id: string }> {
    const r = await pub.post(`/public/process/${KEY}/start`, { variables: vars(values) });
    if (r.status !== 200) throw new Error(`public start: ${r.status} ${JSON.stringify(r.body)}`);
    const [row] = await s.server.db('process_instances').where({ definition_key: KEY, start_user_id: 'public' }).orderBy('start_time', 'desc').limit(1);
    return { reference: r.body.reference, id: row.id };
  }
  const status = async (reference: string) => (await pub.post('/public/request/status', { reference })).body;

  test.serial(t('an upheld objection: the data group verifies, the office upholds, the record is corrected, the citizen is answered'), async (t) => {
    const { admin, data, office, network, app, leader, worker } = s.staff;
    const { reference, id } = await object(objection);
    t.deepEqual(await openKeys(admin, id), ['verifyObjection']);
    await step(data, 'data-1', id, 'verifyObjection', verified, [office, network, app, leader, worker]);
    await step(office, 'office-1', id, 'decideObjection', upheld, [data, network, app, leader, worker]);
    t.deepEqual((await status(reference)).currentSteps, ['更正信用记录']);
    await step(data, 'data-1', id, 'correctRecord', corrected, [office, network, app, leader, worker]);
    await step(office, 'office-1', id, 'replyApplicant', reply, [data, network, app, leader, worker]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), ['verifyObjection:data-1', 'decideObjection:office-1', 'correctRecord:data-1', 'replyApplicant:office-1']);
    t.deepEqual(await passed(admin, id), [
      'start', 'verifyObjection', 'decideObjection', 'decisionGateway', 'correctRecord', 'replyApplicant', 'outcomeGateway', 'endUpheld',
    ]);
    t.like(await variablesOf(admin, id), { ...objection, ...verified, decision: 'upheld', sourceConfirmed: true, replyMethod: 'email' });
    t.like(await status(reference), { state: 'completed', outcome: '异议成立，记录已更正', stepsDone: ['核查异议信息', '审定异议', '更正信用记录', '答复申请人'] });
  });

  test.serial(t('a rejected objection goes straight to the reply and the record stays'), async (t) => {
    const { admin, data, office } = s.staff;
    const { reference, id } = await object({ ...objection, applicantName: '王五', recordObjected: '2025年 行政处罚记录' });
    await step(data, 'data-1', id, 'verifyObjection', { ...verified, verificationFinding: 'accurate', verificationNote: '处罚决定有效，记录准确' });
    await step(office, 'office-1', id, 'decideObjection', { decision: 'rejected', decisionReason: '处罚决定仍然有效，记录准确' });
    t.deepEqual(await openKeys(admin, id), ['replyApplicant'], 'no correction');
    await step(office, 'office-1', id, 'replyApplicant', { ...reply, replyMethod: 'letter', replySummary: '异议不成立，理由见书面答复' });
    t.is((await passed(admin, id)).at(-1), 'endRejected');
    t.false((await passed(admin, id)).includes('correctRecord'));
    t.like(await status(reference), { state: 'completed', outcome: '异议不成立，已答复', stepsDone: ['核查异议信息', '审定异议', '答复申请人'] });
  });

  test.serial(t('forms refuse what an answer cannot rest on; a walk-in objection is started by the office on the private listener'), async (t) => {
    const { admin, data, office } = s.staff;
    const id = await startProcess(office, KEY, objection);
    t.is((await admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body[0].startUserId, 'office-1');
    t.regex(await refusedForm(data, 'data-1', id, 'verifyObjection', { ...verified, verificationFinding: 'unsure' }), /verificationFinding/);
    t.regex(await refusedForm(data, 'data-1', id, 'verifyObjection', { ...verified, sourceDepartment: undefined }), /sourceDepartment/);
    await step(data, 'data-1', id, 'verifyObjection', { ...verified, verificationFinding: 'expired' });
    t.regex(await refusedForm(office, 'office-1', id, 'decideObjection', { decision: 'upheld' }), /decisionReason/);
    await step(office, 'office-1', id, 'decideObjection', upheld);
    t.regex(await refusedForm(data, 'data-1', id, 'correctRecord', { ...corrected, sourceConfirmed: 'maybe' }), /sourceConfirmed/);
    await step(data, 'data-1', id, 'correctRecord', { ...corrected, correctionAction: 'withdrawn' });
    t.regex(await refusedForm(office, 'office-1', id, 'replyApplicant', { ...reply, replyDate: '下周' }), /replyDate/);
    t.deepEqual(await openKeys(admin, id), ['replyApplicant'], 'refused forms leave the task open');
    await step(office, 'office-1', id, 'replyApplicant', reply);
    t.is(await stateOf(admin, id), 'COMPLETED');
  });
}, { PUBLIC_PORT: '0' });
