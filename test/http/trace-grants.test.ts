import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { makeDb } from '../../src/store/db.ts';
import { backends } from '../helpers/db.ts';
import { oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, repoRoot, TEST_KEY_ENV } from '../helpers/server.ts';
import { startProcess, step } from '../helpers/scenario.ts';

/*
 * sql/trace-grants.sql as the operator applies it: migrations by the owner,
 * the grants for a role of the server's own, then the server started as
 * that role. It works a process through, and cannot rewrite the trace.
 */

const postgres = backends.find((b) => b.name === 'postgres');
const TITLE = 'sql/trace-grants.sql: a server running as the granted role works a process through, and can neither change nor remove trace rows';

if (!postgres) {
  test.skip(`${TITLE} (PostgreSQL only: set TEST_DATABASE_URL)`, () => undefined);
} else {
  test(`postgres: ${TITLE}`, async (t) => {
    const testDb = await postgres.create();
    const role = `bpmn_server_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await testDb.db.raw(`create role ${role} login password '${password}'`);
    try {
      const applied = spawnSync('psql', [testDb.url!, '-v', 'ON_ERROR_STOP=1', '-v', `server_role=${role}`, '-f', path.join(repoRoot, 'sql', 'trace-grants.sql')], { encoding: 'utf8' });
      t.is(applied.status, 0, applied.stderr);

      const asRole = new URL(testDb.url!);
      asRole.username = role;
      asRole.password = password;
      const server = await startServer(loadConfig({
        PORT: '0', HOST: '127.0.0.1', DATABASE_URL: asRole.toString(), ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password,
        LOG_LEVEL: 'silent', ...NO_PROCESSES, ...TEST_KEY_ENV,
      }), { log: pino({ level: 'silent' }), runScheduler: false });
      try {
        t.is((await server.db.raw('select current_user as who')).rows[0].who, role, 'the server connects as the granted role');
        const plan = fs.readFileSync(path.join(repoRoot, 'processes', 'security-plan-approval.bpmn'));
        await server.services.deployments.deploy(oneResource('security-plan-approval.bpmn', plan));
        const office = await makeUser(server, 'office-grants', ['office']);
        const id = await startProcess(office, 'security-plan-approval', { title: '年度规划', planType: 'plan' });
        await step(office, 'office-grants', id, 'draftPlan', { title: '年度规划', summary: '全年网络与数据安全建设规划草案' });
        const rows = await server.db('trace').where({ process_instance_id: id }).whereNot('operation', 'Read').orderBy('id');
        t.deepEqual(rows.map((r: { operation: string }) => r.operation), ['Create', 'Claim', 'Complete'], 'the role adds rows');

        // What the role must not do to the trace, nor to the schema.
        for (const sql of [
          `update trace set user_id = 'someone-else' where id = ${rows[0].id}`,
          `delete from trace where id = ${rows[0].id}`,
          'truncate trace',
          'create table trace_copy (id bigint)',
          'alter table trace drop column hash',
        ]) {
          const err = await t.throwsAsync(server.db.raw(sql), undefined, sql);
          t.is((err as { code?: string } | undefined)?.code, '42501', `${sql}: refused for want of privilege (${err?.message})`);
        }
        const report = (await client(server.url, ADMIN.user, ADMIN.password).get('/engine-rest/trace/verify')).body;
        t.true(report.ok, JSON.stringify(report.broken));
        t.true(report.rows >= 6);
      } finally {
        await server.close();
      }
    } finally {
      await testDb.drop();
      const admin = makeDb({ databaseUrl: process.env.TEST_DATABASE_URL });
      await admin.raw(`drop role if exists ${role}`);
      await admin.destroy();
    }
  });
}
