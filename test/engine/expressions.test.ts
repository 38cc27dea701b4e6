import { EventEmitter } from 'node:events';
import test from 'ava';
import { Engine } from 'bpmn-engine';
import { evaluate, ExpressionError, makeExpressions } from '../../src/engine/expressions.ts';

const vars =
  (v: Record<string, unknown>) =>
  (name: string): unknown =>
    v[name];
const ev = (expr: string, v: Record<string, unknown> = {}) => evaluate(expr, vars(v));

test('literals', (t) => {
  t.is(ev('42'), 42);
  t.is(ev('3.25'), 3.25);
  t.is(ev('.5'), 0.5);
  t.is(ev('1e3'), 1000);
  t.is(ev("'single'"), 'single');
  t.is(ev('"double"'), 'double');
  t.is(ev('true'), true);
  t.is(ev('false'), false);
  t.is(ev('null'), null);
});

test('string escapes and Chinese literals', (t) => {
  t.is(ev("'it\\'s'"), "it's");
  t.is(ev('"say \\"hi\\""'), 'say "hi"');
  t.is(ev("'a\\\\b'"), 'a\\b');
  t.is(ev("'line\\nbreak'"), 'line\nbreak');
  t.is(ev("'raw\nnewline'"), 'raw\nnewline');
  t.is(ev("'\\u4e2d'"), '中');
  t.is(ev("'重大'"), '重大');
  t.true(ev("severity == '重大' || severity == '特别重大'", { severity: '特别重大' }) as boolean);
  t.false(ev("severity == '重大' || severity == '特别重大'", { severity: '一般' }) as boolean);
});

test('arithmetic operators', (t) => {
  t.is(ev('2 * 3'), 6);
  t.is(ev('7 / 2'), 3.5);
  t.is(ev('7 div 2'), 3.5);
  t.is(ev('7 % 3'), 1);
  t.is(ev('7 mod 3'), 1);
  t.is(ev('1 + 2'), 3);
  t.is(ev('5 - 8'), -3);
  t.is(ev('-x', { x: 4 }), -4);
  t.is(ev("'10' + 5"), 15);
  t.is(ev('missing + 1'), 1);
  t.throws(() => ev("'abc' + 1"), { instanceOf: ExpressionError });
});

test('comparison operators', (t) => {
  t.true(ev('1 < 2') as boolean);
  t.true(ev('2 > 1') as boolean);
  t.true(ev('2 <= 2') as boolean);
  t.true(ev('2 >= 2') as boolean);
  t.true(ev('1 lt 2') as boolean);
  t.true(ev('2 gt 1') as boolean);
  t.true(ev('2 le 2') as boolean);
  t.true(ev('3 ge 2') as boolean);
  t.true(ev("'a' < 'b'") as boolean);
  t.true(ev("amount > 100", { amount: '150' }) as boolean);
  t.false(ev('amount > 100') as boolean);
  t.false(ev('amount < 100') as boolean);
});

test('equality operators', (t) => {
  t.true(ev("decision == 'approve'", { decision: 'approve' }) as boolean);
  t.true(ev("decision != 'approve'", { decision: 'reject' }) as boolean);
  t.true(ev("decision eq 'revise'", { decision: 'revise' }) as boolean);
  t.true(ev("decision ne 'revise'", { decision: 'approve' }) as boolean);
  t.true(ev("n == '5'", { n: 5 }) as boolean);
  t.true(ev("'5.0' == n", { n: 5 }) as boolean);
  t.false(ev("n == 'five'", { n: 5 }) as boolean);
  t.true(ev('missing == null') as boolean);
  t.false(ev('0 == null') as boolean);
  t.true(ev("flag == 'true'", { flag: true }) as boolean);
  t.false(ev("obj == 'x'", { obj: {} }) as boolean);
});

test('logical operators and unary not', (t) => {
  t.true(ev('a && b', { a: true, b: true }) as boolean);
  t.false(ev('a and b', { a: true, b: false }) as boolean);
  t.true(ev('a || b', { a: false, b: true }) as boolean);
  t.false(ev('a or b', { a: false, b: false }) as boolean);
  t.true(ev('amount > 100 && urgent', { amount: 200, urgent: true }) as boolean);
  t.false(ev('amount > 100 && urgent', { amount: 50, urgent: true }) as boolean);
  t.false(ev('!approved', { approved: true }) as boolean);
  t.true(ev('not approved', { approved: false }) as boolean);
  t.true(ev('!missing') as boolean);
  t.true(ev("!s", { s: 'false' }) as boolean, "string 'false' coerces to false like JUEL");
});

test('logical operators short-circuit', (t) => {
  const seen: string[] = [];
  const scope = (name: string) => {
    seen.push(name);
    return name === 'yes';
  };
  t.false(evaluate('no && boom', scope) as boolean);
  t.true(evaluate('yes || boom', scope) as boolean);
  t.is(evaluate("yes ? 'a' : boom", scope), 'a');
  t.deepEqual(seen, ['no', 'yes', 'yes']);
  // Right side would throw if evaluated.
  t.false(ev("false && ('x' + 1)") as boolean);
});

test('empty operator', (t) => {
  t.true(ev('empty comment') as boolean);
  t.true(ev('empty comment', { comment: null }) as boolean);
  t.true(ev('empty comment', { comment: '' }) as boolean);
  t.true(ev('empty list', { list: [] }) as boolean);
  t.true(ev('empty obj', { obj: {} }) as boolean);
  t.false(ev('empty comment', { comment: 'ok' }) as boolean);
  t.false(ev('empty list', { list: [1] }) as boolean);
  t.false(ev('empty n', { n: 0 }) as boolean);
  t.true(ev('not empty comment', { comment: 'x' }) as boolean);
});

test('ternary and precedence', (t) => {
  t.is(ev('1 + 2 * 3'), 7);
  t.is(ev('(1 + 2) * 3'), 9);
  t.is(ev('10 - 4 - 3'), 3, 'left associative');
  t.is(ev('-2 * 3'), -6);
  t.true(ev('1 + 1 == 2 && 3 > 2') as boolean);
  t.true(ev('true || false && false') as boolean, '&& binds tighter than ||');
  t.true(ev('!true == false') as boolean, 'unary binds tighter than ==');
  t.is(ev("a ? 'x' : b ? 'y' : 'z'", { a: false, b: true }), 'y');
  t.is(ev("n > 1 ? 'many' : 'one'", { n: 3 }), 'many');
  t.true(ev('!a || b', { a: true, b: true }) as boolean);
});

test('member access', (t) => {
  const scope = { a: { b: { c: 1 }, list: [10, 20], 'x-y': 'dash' } };
  t.is(ev('a.b.c', scope), 1);
  t.is(ev("a['b'].c", scope), 1);
  t.is(ev("a['x-y']", scope), 'dash');
  t.is(ev('a.list[1]', scope), 20);
  t.is(ev('a.list.length', scope), 2);
  t.is(ev('a.nope.deeper', scope), undefined);
  t.is(ev('missing.x'), undefined);
  t.is(ev('a.empty', { a: { empty: 'word ops are valid property names' } }), 'word ops are valid property names');
  t.is(ev('a.constructor', scope), undefined);
  t.is(ev('a.__proto__', scope), undefined);
});

test('syntax errors throw ExpressionError with position', (t) => {
  for (const bad of ['', 'a +', '(a', 'a b', "'unterminated", 'a = 1', 'a & b', 'a.b()', 'fn(1)', 'a[0]()', 'a.', 'a[1', 'and', '1 ? 2', '重大']) {
    t.throws(() => ev(bad), { instanceOf: ExpressionError }, bad);
  }
  const err = t.throws(() => ev('a + )'), { instanceOf: ExpressionError });
  t.is(err.expression, 'a + )');
  t.is(err.position, 4);
  t.regex(err.message, /position 4.*"a \+ \)"/);
  t.regex(t.throws(() => ev('a.b()'))!.message, /b\(\) is not on the allow-list/);
  t.regex(t.throws(() => ev('fn(1)'))!.message, /not one of the built-in functions/);
});

test('resolveExpression: whole expression returns raw value', (t) => {
  const { resolveExpression } = makeExpressions();
  const environment = { variables: { approved: true, amount: 5, obj: { k: 1 }, dueDate: '2030-01-01' } };
  t.is(resolveExpression('${approved}', { environment }), true);
  t.is(resolveExpression('${!approved}', { environment }), false);
  t.is(resolveExpression('${amount * 2}', { environment }), 10);
  t.deepEqual(resolveExpression('${obj}', { environment }), { k: 1 });
  t.is(resolveExpression('#{dueDate}', { environment }), '2030-01-01');
  t.is(resolveExpression('${missing}', { environment }), undefined);
  t.is(resolveExpression('${missing}'), undefined, 'works without context');
  t.is(resolveExpression('no expressions here', { environment }), 'no expressions here');
  t.is(resolveExpression('PT1M', { environment }), 'PT1M');
  t.is(resolveExpression(3 as unknown as string), 3);
  t.is(resolveExpression('\n  ${!approved}\n', { environment }), false, 'whitespace around a lone expression is ignored');
});

test('resolveExpression: template substitution', (t) => {
  const { resolveExpression } = makeExpressions();
  const environment = { variables: { name: '张三', n: 2, evil: '${n}' } };
  t.is(resolveExpression('Hello ${name}!', { environment }), 'Hello 张三!');
  t.is(resolveExpression('${n} + #{n} = ${n + n}', { environment }), '2 + 2 = 4');
  t.is(resolveExpression('[${missing}] [${null}]', { environment }), '[] []');
  t.is(resolveExpression("x${n == 2 ? '}' : '{'}y", { environment }), 'x}y', 'braces inside strings');
  t.is(resolveExpression('v=${evil}', { environment }), 'v=${n}', 'substituted values are not re-evaluated');
  t.is(resolveExpression('price $5 and ${unclosed', { environment }), 'price $5 and ${unclosed');
});

test('resolveExpression: bpmn-engine compatibility paths and context keys', (t) => {
  const { resolveExpression } = makeExpressions();
  const environment = { variables: { x: 1, owner: 'wang' } };
  const ctx = { environment, owner: { id: 'task' }, content: { output: { y: 'out' } }, fields: { routingKey: 'run.end' }, properties: { p: 1 } };
  t.is(resolveExpression('${environment.variables.x}', ctx), 1);
  t.is(resolveExpression('${content.output.y}', ctx), 'out');
  t.is(resolveExpression('${owner}', ctx), 'wang', 'a process variable wins over the element API key of the same name');
  t.is(resolveExpression('${fields.routingKey}', ctx), 'run.end');
  t.is(resolveExpression('${properties.p}', ctx), 1);
  t.is(resolveExpression('${environment.variables.owner}', ctx), 'wang');
  t.is(resolveExpression('${x == 1}', ctx), true);
  t.is(resolveExpression('${toString}', ctx), undefined, 'prototype keys are not variables');
});

test('resolveExpression: unknown variables behave as null', (t) => {
  const { resolveExpression } = makeExpressions();
  const ctx = { environment: { variables: {} } };
  t.is(resolveExpression("${decision == 'approve'}", ctx), false);
  t.is(resolveExpression("${decision != 'approve'}", ctx), true);
  t.is(resolveExpression('${decision == null}', ctx), true);
  t.is(resolveExpression('${empty decision}', ctx), true);
  t.is(resolveExpression('${amount > 100}', ctx), false);
});

test('isExpression / hasExpression', (t) => {
  const { isExpression, hasExpression } = makeExpressions();
  t.true(isExpression('${a}'));
  t.true(isExpression('#{a}'));
  t.false(isExpression('x ${a}'));
  t.false(isExpression(''));
  t.false(isExpression(undefined));
  t.true(hasExpression('x ${a} y'));
  t.false(hasExpression('plain'));
  t.false(hasExpression('${unclosed'));
  t.true(isExpression(' ${a} '));
});

test('parsed expressions are cached without unbounded growth', (t) => {
  for (let i = 0; i < 2500; i++) t.is(ev(`n + ${i}`, { n: 1 }), i + 1);
  t.is(ev('n + 0', { n: 2 }), 2, 'evicted entries are re-parsed correctly');
  t.is(ev('n + 2499', { n: 1 }), 2500, 'cached entries evaluate against the new scope');
});

const gatewaySource = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="review" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="toGateway" sourceRef="start" targetRef="gateway" />
    <bpmn:exclusiveGateway id="gateway" />
    <bpmn:sequenceFlow id="toApproved" sourceRef="gateway" targetRef="approvedEnd">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${decision == 'approve'}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toRejected" sourceRef="gateway" targetRef="rejectedEnd">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${decision != 'approve'}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="approvedEnd" />
    <bpmn:endEvent id="rejectedEnd" />
  </bpmn:process>
</bpmn:definitions>`;

async function runGateway(decision: string): Promise<string[]> {
  const engine = new Engine({ name: 'expr-test', source: gatewaySource, expressions: makeExpressions(), variables: { decision } });
  const ended: string[] = [];
  const listener = new EventEmitter();
  listener.on('activity.end', (api: { id: string; type: string }) => {
    if (api.type === 'bpmn:EndEvent') ended.push(api.id);
  });
  const done = new Promise<void>((resolve, reject) => {
    engine.once('end', () => resolve());
    engine.once('error', reject);
  });
  await engine.execute({ listener });
  await done;
  return ended;
}

test('bpmn-engine exclusive gateway uses JUEL conditions', async (t) => {
  t.deepEqual(await runGateway('approve'), ['approvedEnd']);
  t.deepEqual(await runGateway('reject'), ['rejectedEnd']);
});
