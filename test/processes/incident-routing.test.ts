import test from 'ava';
import { scenarioSuite } from '../helpers/scenario.ts';

/*
 * The incident routing table (processes/incident-routing.dmn) as the office
 * deploys it: every rule and every severity evaluated over Camunda's REST,
 * with the rule history names. The process's own scenarios drive it through
 * the routeIncident task (security-incident.test.ts).
 */

const text = (value: string) => ({ value, type: 'String' });
const OFFICE_MAJOR = { severityThreshold: 'major', decidingBody: 'office' };

// category, zone, severity → the rule that matches and what it decides (an empty deadline cell gives no entry).
const CASES: [string, string, string, string, Record<string, string>][] = [
  ['data-leak', 'internet', 'serious', 'public-data-grave', { severityThreshold: 'serious', decidingBody: 'leading-group', reportDeadline: 'PT12H' }],
  ['data-tampering', 'both', 'critical', 'public-data-grave', { severityThreshold: 'serious', decidingBody: 'leading-group', reportDeadline: 'PT12H' }],
  ['data-leak', 'internet', 'general', 'public-data-general', { severityThreshold: 'serious', decidingBody: 'office' }],
  ['data-leak', 'government-network', 'major', 'private-data-grave', { severityThreshold: 'major', decidingBody: 'leading-group', reportDeadline: 'PT24H' }],
  ['data-tampering', 'government-network', 'serious', 'private-data-minor', OFFICE_MAJOR],
  ['data-leak', 'government-network', 'general', 'private-data-minor', OFFICE_MAJOR],
  ['malware', 'both', 'critical', 'other-grave', { severityThreshold: 'major', decidingBody: 'leading-group', reportDeadline: 'PT24H' }],
  ['network-attack', 'internet', 'major', 'other-grave', { severityThreshold: 'major', decidingBody: 'leading-group', reportDeadline: 'PT24H' }],
  ['network-attack', 'internet', 'general', 'other-minor', OFFICE_MAJOR],
  ['malware', 'government-network', 'serious', 'other-minor', OFFICE_MAJOR],
];

scenarioSuite((s, t) => {
  test.serial(t('every rule and every severity of the routing table, evaluated over REST by the office, with the matched rule in history'), async (t) => {
    const { office } = s.staff;
    for (const [category, affectedZone, severity, ruleId, expected] of CASES) {
      s.clock.advance(1000); // each evaluation at its own time, so the newest history row is this one
      const r = await office.post('/engine-rest/decision-definition/key/incident-routing/evaluate', {
        variables: { category: text(category), affectedZone: text(affectedZone), severity: text(severity) },
      });
      const what = `${category} / ${affectedZone} / ${severity}`;
      t.is(r.status, 200, `${what}: ${JSON.stringify(r.body)}`);
      t.is(r.body.length, 1, what);
      t.deepEqual(Object.fromEntries(Object.entries(r.body[0] as Record<string, { value: string; type: string }>).map(([k, v]) => [k, v.value])), expected, what);
      t.true(Object.values(r.body[0] as Record<string, { type: string }>).every((v) => v.type === 'String'), what);
      const [h] = (await office.get('/engine-rest/history/decision-instance?decisionDefinitionKey=incident-routing&includeOutputs=true&sortBy=evaluationTime&sortOrder=desc&maxResults=1')).body;
      t.true(h.outputs.every((o: { ruleId: string }) => o.ruleId === ruleId), `${what} → ${ruleId}`);
    }
    // Every severity the form offers is routed by some rule.
    t.deepEqual([...new Set(CASES.map((c) => c[2]))].sort(), ['critical', 'general', 'major', 'serious']);
    t.deepEqual([...new Set(CASES.map((c) => c[3]))].length, 6, 'every rule of the table');
  });
});
