import test from 'ava';
import { evaluate, ExpressionError, findSyntaxError, makeExpressions, type JuelEnv } from '../../src/engine/expressions.ts';
import { MAX_MATCH_INPUT, regexProblem } from '../../src/engine/juel-regex.ts';

// Method calls and built-in functions on the allow-list (juel-methods.ts, docs/expressions.md), unit by unit;
// the server evaluating them over REST is test/conformance/juel-methods.test.ts.

const clock = new Date('2026-03-30T22:15:00Z'); // 06:15 on the 31st in Shanghai
const env: JuelEnv = { now: () => clock, zone: 'Asia/Shanghai', user: { id: 'alice', groups: ['office', 'staff'] } };
const ev = (expr: string, v: Record<string, unknown> = {}, e: JuelEnv = env) => evaluate(expr, (n) => v[n], e);

test('String methods behave as java.lang.String', (t) => {
  const v = { status: 'ok', s: '  Hello World  ', n: 'abc' };
  t.true(ev("status.equals('ok')", v) as boolean);
  t.false(ev('status.equals(5)', v) as boolean);
  t.true(ev("status.equalsIgnoreCase('OK')", v) as boolean);
  t.true(ev("s.contains('World')", v) as boolean);
  t.true(ev("s.trim().startsWith('Hello')", v) as boolean);
  t.true(ev("s.trim().endsWith('World')", v) as boolean);
  t.is(ev('s.trim().length()', v), 11);
  t.is(ev('s.length()', v), 15);
  t.false(ev('s.isEmpty()', v) as boolean);
  t.is(ev('n.toUpperCase()', v), 'ABC');
  t.is(ev("'ÀB'.toLowerCase()", v), 'àb');
  t.is(ev('n.substring(1)', v), 'bc');
  t.is(ev('n.substring(0, 2)', v), 'ab');
  t.is(ev("n.indexOf('c')", v), 2);
  t.is(ev("n.indexOf('z')", v), -1);
  t.is(ev("'a-b-a'.lastIndexOf('a')", v), 4);
  t.is(ev("'a-b-a'.replace('-', '+')", v), 'a+b+a');
  t.is(ev("'a'.compareTo('c')", v), -2, 'Java compareTo is the difference, not the sign');
  t.is(ev("'ab'.concat(1)", v), 'ab1');
  t.true(ev("'ab12'.matches('[a-z]+\\\\d*')", v) as boolean);
  t.false(ev("'ab12x'.matches('[a-z]+\\\\d*')", v) as boolean, 'matches is a whole-string match');
  t.true(ev('"x".equals("x")') as boolean, 'both quotes');
  const err = t.throws(() => ev('n.substring(2, 9)', v), { instanceOf: ExpressionError });
  t.regex(err.message, /StringIndexOutOfBounds/);
});

test('numbers, booleans, lists and maps (Json variables)', (t) => {
  const v = { amount: 12.75, reviewers: ['ann', 'bob', 'cy'], order: { id: 7, lines: [1, 2] }, yes: true };
  t.is(ev('amount.intValue()', v), 12);
  t.is(ev('(0 - amount).intValue()', v), -12);
  t.is(ev('amount.doubleValue()', v), 12.75);
  t.is(ev('amount.compareTo(20)', v), -1);
  t.true(ev('reviewers.size() > 2', v) as boolean);
  t.true(ev("reviewers.contains('bob')", v) as boolean);
  t.is(ev('reviewers.get(0)', v), 'ann');
  t.is(ev('reviewers.indexOf("cy")', v), 2);
  t.false(ev('reviewers.isEmpty()', v) as boolean);
  t.true(ev("order.containsKey('id')", v) as boolean);
  t.is(ev("order.get('id')", v), 7);
  t.is(ev("order.get('none')", v), null);
  t.deepEqual(ev('order.keySet()', v), ['id', 'lines']);
  t.is(ev('order.values().size()', v), 2);
  t.is(ev('order.size()', v), 2);
  t.true(ev('order.get("lines").contains(2)', v) as boolean);
  t.true(ev('yes.booleanValue()', v) as boolean);
  t.regex(t.throws(() => ev('reviewers.get(3)', v))!.message, /IndexOutOfBounds/);
  t.regex(t.throws(() => ev('reviewers.length()', v))!.message, /List has no method length\(\)/, 'a method valid for another type fails at run time');
  t.regex(t.throws(() => ev('missing.size()', v))!.message, /Cannot call size\(\) on null/);
});

test('now() and dateTime() read the run clock in the server zone', (t) => {
  t.deepEqual(ev('now()'), clock);
  t.is(ev('dateTime().toString()'), '2026-03-31T06:15:00.000+08:00');
  t.deepEqual(ev('dateTime().plusWeeks(1).toDate()'), new Date('2026-04-06T22:15:00Z'));
  t.deepEqual(ev('dateTime().plusMonths(1).toDate()'), new Date('2026-04-29T22:15:00Z'), 'calendar months: the 31st becomes the 30th');
  t.deepEqual(ev('dateTime().withTimeAtStartOfDay().toDate()'), new Date('2026-03-30T16:00:00Z'), 'midnight in Shanghai');
  t.deepEqual(ev('dateTime().minusHours(7).plusMinutes(15).toDate()'), new Date('2026-03-30T15:30:00Z'));
  t.is(ev("dateTime().plusDays(2).toString('yyyy-MM-dd HH:mm')"), '2026-04-02 06:15');
  t.is(ev("dateTime().toString('dd.MM.yy EEE Z')"), '31.03.26 Tue +0800');
  t.true(ev('now().before(dateTime().plusSeconds(1).toDate())') as boolean);
  t.true(ev('due.after(now())', { due: new Date('2027-01-01T00:00:00Z') }) as boolean);
  t.is(ev('now().getTime()'), clock.getTime());
  t.regex(t.throws(() => ev("dateTime().toString('yyyy-ww')"))!.message, /letter 'w'/);
  const { resolveExpression } = makeExpressions(env);
  t.throws(() => resolveExpression('${dateTime()}', { environment: { variables: {} } }), { message: /toDate\(\)/ }, 'a DateTime is not kept as a value');
  t.is(resolveExpression('due ${dateTime().plusDays(1)}', { environment: { variables: {} } }), 'due 2026-04-01T06:15:00.000+08:00');
});

test('currentUser(), currentUserGroups() and authenticatedUserId; null without a user, as Camunda', (t) => {
  t.is(ev('currentUser()'), 'alice');
  t.deepEqual(ev('currentUserGroups()'), ['office', 'staff']);
  t.true(ev("currentUserGroups().contains('office')") as boolean);
  t.is(ev('authenticatedUserId'), 'alice');
  t.is(ev('authenticatedUserId', { authenticatedUserId: 'var' }), 'var', 'a variable of that name hides it');
  const nobody = { ...env, user: null };
  t.is(ev('currentUser()', {}, nobody), null);
  t.is(ev('currentUserGroups()', {}, nobody), null);
  t.is(ev('authenticatedUserId', {}, nobody), null);
});

test('execution: reads, writes the process variables, names the instance', (t) => {
  const variables: Record<string, unknown> = { x: 1, nothing: null };
  const ctx = { environment: { variables, settings: { execution: { processInstanceId: 'pi-1', businessKey: 'bk', processDefinitionId: 'def:1' } } }, content: { id: 'gw', executionId: 'gw_1' } };
  const { resolveExpression } = makeExpressions(env);
  t.true(resolveExpression("${execution.getVariable('x') != null}", ctx) as boolean);
  t.is(resolveExpression("${execution.getVariable('y')}", ctx), null);
  t.true(resolveExpression("${execution.hasVariable('nothing')}", ctx) as boolean, 'a variable set to null exists');
  t.false(resolveExpression("${execution.hasVariable('y')}", ctx) as boolean);
  t.is(resolveExpression('${execution.getProcessInstanceId()}', ctx), 'pi-1');
  t.is(resolveExpression('${execution.processInstanceId}', ctx), 'pi-1', 'bean property through its getter');
  t.is(resolveExpression('${execution.processBusinessKey}', ctx), 'bk');
  t.is(resolveExpression('${execution.getProcessBusinessKey()}', ctx), 'bk');
  t.is(resolveExpression('${execution.getProcessDefinitionId()}', ctx), 'def:1');
  t.is(resolveExpression('${execution.getActivityId()}', ctx), 'gw');
  t.is(resolveExpression('${execution.getId()}', ctx), 'gw_1');
  t.is(resolveExpression("${execution.setVariable('y', x + 1)}", ctx), null);
  t.is(variables['y'], 2);
  t.is(resolveExpression("${execution.getVariableLocal('y')}", ctx), 2, 'without a scope of its own, its locals are the instance\'s');
  const local = { ...ctx, content: { ...ctx.content, localVariables: { inp: 5 } } };
  t.is(resolveExpression("${execution.getVariableLocal('inp')}", local), 5);
  t.is(resolveExpression("${execution.getVariableLocal('x')}", local), null);
  t.throws(() => resolveExpression("${execution.setVariable('inp', 1)}", local), { message: /local variable/ });
  t.is(resolveExpression('${execution.getClass}', ctx), undefined, 'no JS member through a property');
});

test('refused when parsed: calls off the list, wrong argument counts, unsafe or Java-only regexes', (t) => {
  const refused: [string, RegExp][] = [
    ['${x.getClass()}', /getClass\(\) is not on the allow-list/],
    ['${x.constructor()}', /constructor\(\) is not on the allow-list/],
    ['${x.wait()}', /wait\(\) is not on the allow-list/],
    ['${x.notify()}', /notify\(\) is not on the allow-list/],
    ['#{myService.call()}', /call\(\) is not on the allow-list/],
    ['${execution.getProcessEngineServices()}', /getProcessEngineServices\(\) is not on the allow-list/],
    ['${eval(1)}', /eval\(\) is not one of the built-in functions/],
    ['${now(1)}', /now\(\) takes 0 arguments, not 1/],
    ["${s.equals('a', 'b')}", /equals\(\) takes 1 arguments, not 2/],
    ['${s.substring()}', /substring\(\) takes 1 or 2 arguments, not 0/],
    ["${s.matches('(a+)+$')}", /exponential/],
    ["${s.matches('a*+')}", /possessive/],
    ["${s.matches('\\\\p{javaLowerCase}+')}", /\\p is not supported/],
    ["${s.matches('[a-z&&[^e]]')}", /intersections/],
    ["${s.matches('(?i)abc')}", /only \(…\) and \(\?:…\) groups/],
    ["${dateTime().toString('yyyy QQ')}", /letter 'Q'/],
    ["${s.matches('\\d+')}", /Invalid escape sequence \\d/],
  ];
  for (const [text, why] of refused) {
    const err = findSyntaxError(text);
    t.truthy(err, text);
    t.regex(err!.message, why, text);
    t.regex(err!.message, /in expression/, 'the expression is named');
  }
  t.is(findSyntaxError("${status.equals('ok') && dateTime().plusDays(1).toDate().after(now())}"), null);
});

test('matches() is bounded: nested repetition refused, long inputs fail, accepted patterns are fast', (t) => {
  t.truthy(regexProblem('(a|ab)*c'));
  t.truthy(regexProblem('(x+x+)+y'));
  t.truthy(regexProblem('a*b*c*d*'));
  t.truthy(regexProblem('(a)\\1'));
  t.is(regexProblem('(foo|bar)?[0-9]{2,4}'), null);
  t.is(regexProblem('^[A-Z]{2}-\\d+$'), null);
  const pattern = '.*a.*a.*b';
  const input = 'a'.repeat(MAX_MATCH_INPUT);
  const started = process.hrtime.bigint();
  t.false(ev(`s.matches('${pattern}')`, { s: input }) as boolean);
  t.true(Number(process.hrtime.bigint() - started) / 1e6 < 5000, 'the worst accepted case stays bounded');
  t.regex(t.throws(() => ev("s.matches('a*')", { s: 'a'.repeat(MAX_MATCH_INPUT + 1) }))!.message, /bounded to inputs of 1000/);
  t.regex(t.throws(() => ev('s.matches(p)', { s: 'aaa', p: '(a+)+' }))!.message, /exponential/, 'a pattern in a variable is judged at the call');
});
