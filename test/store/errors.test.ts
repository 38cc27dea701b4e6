import test from 'ava';
import { isDatabaseUnavailable, isTooManyParameters } from '../../src/store/errors.ts';
import { backends } from '../helpers/db.ts';

for (const backend of backends) {
  test(`${backend.name}: a statement with more parameters than the protocol allows is the request's fault, not an unreachable database`, async (t) => {
    const { db, drop } = await backend.create({ migrate: false });
    try {
      const values = Array.from({ length: 70_000 }, (_, i) => i);
      const err = await t.throwsAsync(db.raw(`select 1 where 1 in (${values.map(() => '?').join(',')})`, values));
      t.is((err as { code?: string }).code, '08P01', err.message);
      t.true(isTooManyParameters(err));
      t.false(isDatabaseUnavailable(err), 'a 503 would tell the client to send the same request again');
      t.is((await db.raw('select 1 as one')).rows[0].one, 1, 'the connection still serves');
    } finally {
      await drop();
    }
  });
}
