import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { compileResource } from '../../src/engine/compile.ts';
import { setEngineLimits } from '../../src/engine/limits.ts';
import { EngineRunError, startProcess } from '../../src/engine/runner.ts';

// Attacks on the script sandbox, run through the engine as a deployed diagram would be.

const instance = { processInstanceId: 'pi-1', businessKey: 'BK-7', processDefinitionId: 'scripted:1' };

function scriptProcess(script: string, attributes = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="scripted" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="run" />
    <bpmn:scriptTask id="run" name="Compute" scriptFormat="javascript" ${attributes}><bpmn:script><![CDATA[${script}]]></bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="run" targetRef="wait" />
    <bpmn:userTask id="wait" />
  </bpmn:process>
</bpmn:definitions>`;
}

async function start(xml: string, variables: Record<string, unknown> = {}) {
  const [p] = await compileResource('scripted.bpmn', xml);
  return startProcess({ id: 'scripted:1', compiled: p!.compiled }, { variables, execution: instance });
}

test('a script computes and sets variables through Camunda\'s execution API', async (t) => {
  const run = await start(scriptProcess(`
    var amount = execution.getVariable('amount');
    execution.setVariable('total', amount * 3);
    execution.setVariable('seen', [execution.hasVariable('amount'), execution.hasVariable('nothing')]);
    execution.setVariable('who', [execution.getProcessInstanceId(), execution.getProcessBusinessKey(), execution.getActivityId(), execution.getCurrentActivityName()]);
    execution.setVariable('names', Object.keys(execution.getVariables()).sort());
    execution.removeVariable('scratch');
  `), { amount: 14, scratch: 'x' });
  t.false(run.completed);
  t.is(run.variables.total, 42);
  t.deepEqual(run.variables.seen, [true, false]);
  t.deepEqual(run.variables.who, ['pi-1', 'BK-7', 'run', 'Compute']);
  t.deepEqual(run.variables.names, ['amount', 'scratch', 'seen', 'total', 'who'], 'what it set so far is visible');
  t.false('scratch' in run.variables);
});

test('the last expression is the result that camunda:resultVariable names', async (t) => {
  const run = await start(scriptProcess(`var x = execution.getVariable('n'); x * x + 1`, 'camunda:resultVariable="square"'), { n: 7 });
  t.is(run.variables.square, 50);
});

test('values cross as JSON data: a function set as a variable arrives as null, a Date as its ISO text', async (t) => {
  const run = await start(scriptProcess(`
    execution.setVariable('fn', function () { return 1; });
    execution.setVariable('when', execution.getVariable('date'));
    execution.setVariable('nested', { a: [1, { b: 'c' }] });
  `), { date: new Date('2026-01-02T03:04:05.000Z') });
  t.is(run.variables.fn, null);
  t.is(run.variables.when, '2026-01-02T03:04:05.000Z');
  t.deepEqual(run.variables.nested, { a: [1, { b: 'c' }] });
});

const marker = path.join(os.tmpdir(), `sandbox-escape-${process.pid}`);

for (const [name, escape] of [
  ['Function constructor', `this.constructor.constructor('return process')()`],
  ['globalThis.process', `globalThis.process`],
  ['require', `require('node:fs')`],
  ['dynamic import', `import('node:fs')`],
  ['arguments of a host function', `execution.getVariable.constructor('return process')()`],
] as const) {
  test(`escape by ${name} reaches no process: no file, no environment`, async (t) => {
    rmSync(marker, { force: true });
    const script = `
      var p = (${escape});
      if (p && p.mainModule) p.mainModule.require('fs').writeFileSync(${JSON.stringify(marker)}, 'escaped');
      if (p && typeof p.then === 'function') p.then(function (fs) { fs.writeFileSync(${JSON.stringify(marker)}, 'escaped'); });
      execution.setVariable('env', p && p.env ? p.env : null);
    `;
    try {
      const run = await start(scriptProcess(script));
      t.is(run.variables.env, null, 'the script saw no environment');
    } catch (err) {
      t.true(err instanceof EngineRunError);
      t.is((err as EngineRunError).activityId, 'run');
      t.regex((err as Error).message, /not defined|not a function|cannot read/i);
    }
    t.false(existsSync(marker), 'no file was written');
  });
}

test('an infinite loop is cut at the CPU limit and fails the run naming the element', async (t) => {
  const err = await t.throwsAsync(start(scriptProcess('while (true) {}')), { instanceOf: EngineRunError });
  t.is(err.activityId, 'run');
  t.regex(err.message, /run: .*1000 ms/);
  // The sandbox is usable again at once.
  const run = await start(scriptProcess('execution.setVariable("ok", 1 + 1)'));
  t.is(run.variables.ok, 2);
});

test('a memory bomb is cut cleanly and the next script runs', async (t) => {
  const err = await t.throwsAsync(start(scriptProcess(`let a = []; while (true) a.push('x'.repeat(1e6))`)), { instanceOf: EngineRunError });
  t.is(err.activityId, 'run');
  t.regex(err.message, /limit/);
  const run = await start(scriptProcess('execution.setVariable("ok", true)'));
  t.is(run.variables.ok, true);
});

test('a script that throws fails the run with its message', async (t) => {
  const err = await t.throwsAsync(start(scriptProcess(`throw new Error('bad data')`)), { instanceOf: EngineRunError });
  t.is(err.activityId, 'run');
  t.regex(err.message, /bad data/);
});

test('a value the database cannot hold fails the script naming the variable, not the save', async (t) => {
  // Half of a surrogate pair, cut by substring as a name with an emoji would be; a NUL; a value nested past the body limit.
  for (const [code, variable] of [
    [`execution.setVariable('shortName', '张三\u{1F600}'.substring(0, 3))`, 'shortName'],
    [`execution.setVariable('withNul', 'a\u0000b')`, 'withNul'],
    [`var v = 1; for (var i = 0; i < 200; i++) v = [v]; execution.setVariable('deep', v)`, 'deep'],
  ] as const) {
    const err = await t.throwsAsync(start(scriptProcess(code)), { instanceOf: EngineRunError }, variable);
    t.is(err.activityId, 'run');
    t.regex(err.message, new RegExp(`cannot keep.*${variable}`), variable);
  }
});

test('an outcome forged through Object.prototype.toJSON cannot name a variable __proto__', async (t) => {
  const forge = `Object.prototype.toJSON = function () { return this.set !== undefined ? { result: 1, truthy: true, set: JSON.parse('{"__proto__": {"x": 1}}'), removed: [] } : this; }; 1`;
  const err = await t.throwsAsync(start(scriptProcess(forge)), { instanceOf: EngineRunError });
  t.regex(err.message, /__proto__/);
});

test('no state leaks from one script run to the next', async (t) => {
  await start(scriptProcess(`globalThis.leak = 'secret'; Object.prototype.polluted = 1`));
  const run = await start(scriptProcess(`execution.setVariable('seen', [typeof leak, ({}).polluted === undefined])`));
  t.deepEqual(run.variables.seen, ['undefined', true]);
});

const conditions = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="t">
  <bpmn:process id="scripted" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" />
    <bpmn:sequenceFlow id="toHigh" sourceRef="gw" targetRef="high">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">execution.getVariable('amount') &gt; 1000</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toLow" sourceRef="gw" targetRef="low">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">var a = execution.getVariable('amount'); a &lt;= 1000 &amp;&amp; a &gt;= 0</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:userTask id="high" />
    <bpmn:userTask id="low" />
  </bpmn:process>
</bpmn:definitions>`;

test('a javascript condition on a sequence flow picks the path', async (t) => {
  const high = await start(conditions, { amount: 5000 });
  t.deepEqual(high.openedTasks.map((x) => x.activityId), ['high']);
  const low = await start(conditions, { amount: 10 });
  t.deepEqual(low.openedTasks.map((x) => x.activityId), ['low']);
});

const cycle = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="t">
  <bpmn:process id="scripted" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="again" />
    <bpmn:task id="again" />
    <bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="back" />
    <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="again" />
    <bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${never == true}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`;

test.serial('a cycle that never waits is cut by the step budget, naming an element of the cycle', async (t) => {
  setEngineLimits({ runSteps: 500 });
  try {
    const err = await t.throwsAsync(start(cycle, { never: false }), { instanceOf: EngineRunError });
    t.true(['again', 'gw'].includes(err.activityId!), String(err.activityId));
    t.regex(err.message, /500/);
  } finally {
    setEngineLimits({ runSteps: 5_000 });
  }
});

/** The deployment's error message, or 'deployed'. */
async function refused(xml: string): Promise<string> {
  try {
    await compileResource('scripted.bpmn', xml);
  } catch (err) {
    return (err as Error).message;
  }
  return 'deployed';
}

test('groovy is refused at deployment, naming the element', async (t) => {
  const message = await refused(scriptProcess('println "hi"').replace('scriptFormat="javascript"', 'scriptFormat="groovy"'));
  t.regex(message, /^ENGINE-09005/);
  t.regex(message, /element run/);
  t.regex(message, /groovy/);
});

test('a script in an external resource, a python condition and a juel listener script are refused at deployment', async (t) => {
  const external = scriptProcess('').replace('<bpmn:script><![CDATA[]]></bpmn:script>', '').replace('scriptFormat="javascript"', 'scriptFormat="javascript" camunda:resource="deployment://x.js"');
  t.regex(await refused(external), /element run/);
  t.regex(await refused(external), /deployment:\/\/x\.js/);
  const python = conditions.replace('language="javascript"', 'language="python"');
  t.regex(await refused(python), /element toHigh/);
  const listener = scriptProcess('1').replace('<bpmn:userTask id="wait" />', `<bpmn:userTask id="wait"><bpmn:extensionElements>
    <camunda:executionListener event="start"><camunda:script scriptFormat="juel">\${x}</camunda:script></camunda:executionListener>
  </bpmn:extensionElements></bpmn:userTask>`);
  const message = await refused(listener);
  t.regex(message, /element wait/);
  t.regex(message, /juel/);
});

test.serial('a run that keeps going past its wall-clock budget is stopped, naming an element', async (t) => {
  // Each pass through the cycle burns 50 ms in a script: well under the script limit, not under the run's.
  const slowCycle = cycle.replace('<bpmn:task id="again" />',
    '<bpmn:scriptTask id="again" scriptFormat="javascript"><bpmn:script>var t0 = Date.now(); while (Date.now() - t0 &lt; 50) {}</bpmn:script></bpmn:scriptTask>');
  setEngineLimits({ runWallMs: 400 });
  try {
    const err = await t.throwsAsync(start(slowCycle, { never: false }), { instanceOf: EngineRunError });
    t.regex(err.message, /400 ms/);
    t.true(['again', 'gw'].includes(err.activityId!), String(err.activityId));
  } finally {
    setEngineLimits({ runWallMs: 10_000 });
  }
});

const parallel = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="t">
  <bpmn:process id="scripted" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork" />
    <bpmn:parallelGateway id="fork" />
    <bpmn:sequenceFlow id="fa" sourceRef="fork" targetRef="a" />
    <bpmn:sequenceFlow id="fb" sourceRef="fork" targetRef="b" />
    <bpmn:scriptTask id="a" scriptFormat="javascript"><bpmn:script>execution.setVariable('order', (execution.getVariable('order') || []).concat(['a']))</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="b" scriptFormat="javascript"><bpmn:script>execution.setVariable('order', (execution.getVariable('order') || []).concat(['b']))</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="ja" sourceRef="a" targetRef="join" />
    <bpmn:sequenceFlow id="jb" sourceRef="b" targetRef="join" />
    <bpmn:parallelGateway id="join" />
    <bpmn:sequenceFlow id="f2" sourceRef="join" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" />
    <bpmn:sequenceFlow id="toBoth" sourceRef="gw" targetRef="both">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">execution.getVariable('order').length === 2</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toOne" sourceRef="gw" targetRef="one">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">execution.getVariable('order').length !== 2</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:userTask id="both" />
    <bpmn:userTask id="one" />
  </bpmn:process>
</bpmn:definitions>`;

test('scripts of parallel branches run one after another, each seeing what the one before set, and the run waits for all', async (t) => {
  // Runs on script threads are asynchronous; within one run they keep the engine's order, as if synchronous.
  const runs = await Promise.all([start(parallel), start(parallel), start(parallel)]);
  for (const run of runs) {
    t.deepEqual(run.variables.order, ['a', 'b']);
    t.deepEqual(run.openedTasks.map((x) => x.activityId), ['both']);
    t.deepEqual(run.activities.filter((e) => e.kind === 'end' && (e.activityId === 'a' || e.activityId === 'b')).map((e) => e.activityId), ['a', 'b']);
  }
});
