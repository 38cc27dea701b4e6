import test from 'ava';
import { compileDmn } from '../../src/engine/dmn/compile.ts';
import { ParseError, type ParseDetails } from '../../src/errors.ts';
import { compileFixture, rule, tableDmn } from './dmn-helpers.ts';

const problemsOf = (err: ParseError, resource: string) => (err.details as ParseDetails)[resource]!.errors;

test('a broken DMN resource is refused with every problem, each naming its element and line', async (t) => {
  const err = await t.throwsAsync(compileFixture('refused.dmn'), { instanceOf: ParseError });
  t.regex(err.message, /^ENGINE-09005/);
  const found = problemsOf(err, 'refused.dmn').map((p) => [p.mainElementId, p.line]);
  t.deepEqual(found, [
    ['UnaryTests_open_range', 12], // `[1..` does not parse as unary tests
    ['LiteralExpression_bad_output', 23], // `"high" +` does not parse as FEEL
    ['Rule_missing_entry', 27], // no input entry for the one input
    ['InformationRequirement_elsewhere', 35], // requires a decision not in the resource
    ['DecisionTable_badPolicy', 38], // SUM on a FIRST table
    ['InputExpression_kind', 40], // javascript
    ['UnaryTests_juel', 46], // `${cellInput ==}`
    ['Context_boxed', 56], // a boxed context is not a decision table
  ]);
  for (const p of problemsOf(err, 'refused.dmn')) t.regex(p.message, /[\u4e00-\u9fff].* \/ [A-Za-z]/, 'Chinese / English');
  t.regex(err.message, /element UnaryTests_open_range \| line 12/);
});

const variable = '<variable id="v" name="season" typeRef="string" />';
/** A decision whose logic is `logic` after the decision's `<variable>` (or none). */
const literal = (vars: string, logic: string) => tableDmn('').replace('<decision id="d" name="D">', `<decision id="d" name="D">${vars}${logic}`);
const simple = (tableAttrs: string, body: string) => tableDmn(`<decisionTable id="t" ${tableAttrs}>${body}</decisionTable>`);
const oneInput = '<input id="in"><inputExpression id="ie" typeRef="integer"><text>x</text></inputExpression></input>';

for (const [what, xml, element, pattern] of [
  ['an unknown hit policy', simple('hitPolicy="LAST"', `${oneInput}<output id="o" name="o" />`), 't', /hit policy 'LAST'/],
  ['an unknown aggregation', simple('hitPolicy="COLLECT" aggregation="AVG"', `${oneInput}<output id="o" name="o" />`), 't', /aggregation 'AVG'/],
  ['PRIORITY without output values', simple('hitPolicy="PRIORITY"', `${oneInput}<output id="o" name="o" />`), 't', /output values/],
  ['two outputs, one without a name', simple('', `${oneInput}<output id="o1" name="a" /><output id="o2" />`), 'o2', /needs a name/],
  ['two outputs with one name', simple('', `${oneInput}<output id="o1" name="a" /><output id="o2" name="a" />`), 'o2', /used twice/],
  ['output values that are not literals', simple('hitPolicy="PRIORITY"', `${oneInput}<output id="o" name="o"><outputValues id="ov"><text>[1..2]</text></outputValues></output>`), 'ov', /literals/],
  ['an input with an empty expression', simple('', '<input id="in"><inputExpression id="ie"><text> </text></inputExpression></input><output id="o" name="o" />'), 'in', /no input expression/],
  ['a rule with too many output entries', simple('', `${oneInput}<output id="o" name="o" />${rule('r1', ['1'], ['1', '2'])}`), 'r1', /2 output entries for 1 outputs/],
  ['a literal expression without a variable', literal('', '<literalExpression id="le"><text>1</text></literalExpression>'), 'le', /DMN-02017.*'variable'/],
  ['a literal expression whose variable has no name', literal('<variable id="v" typeRef="string" />', '<literalExpression id="le"><text>1</text></literalExpression>'), 'v', /no name/],
  ['an empty literal expression', literal(variable, '<literalExpression id="le"><text> </text></literalExpression>'), 'le', /no text/],
  ['a literal expression in javascript', literal(variable, '<literalExpression id="le" expressionLanguage="javascript"><text>1</text></literalExpression>'), 'le', /'javascript'/],
  ['a literal expression that is no FEEL', literal(variable, '<literalExpression id="le"><text>1 +</text></literalExpression>'), 'le', /FEEL/],
  ['a literal expression with a FEEL Scala function', literal(variable, '<literalExpression id="le"><text>is defined(x)</text></literalExpression>'), 'le', /unknown FEEL function/],
  ['a literal expression in JUEL calling a bean', literal(variable, '<literalExpression id="le" expressionLanguage="juel"><text>\${calendar.getSeason(date)}</text></literalExpression>'), 'le', /JUEL/],
  ['a boxed context', literal(variable, '<context id="ctx" />'), 'ctx', /Context.*decision tables and literal expressions/],
  ['a decision without logic', tableDmn(''), 'd', /only decision tables and literal expressions/],
  ['a table with no output', simple('', oneInput), 't', /no output/],
] as const) {
  test(`${what} is refused, naming the element`, async (t) => {
    const err = await t.throwsAsync(compileDmn('r.dmn', xml), { instanceOf: ParseError });
    const [first] = problemsOf(err, 'r.dmn');
    t.is(first!.mainElementId, element);
    t.regex(first!.message, pattern);
    t.true(typeof first!.line === 'number');
  });
}

test('decisions that require each other are refused', async (t) => {
  const d = (id: string, other: string) => `<decision id="${id}"><informationRequirement id="ir_${id}"><requiredDecision href="#${other}" /></informationRequirement>
    <decisionTable id="t_${id}"><output id="o_${id}" name="${id}" /></decisionTable></decision>`;
  const xml = tableDmn('').replace(/<decision id="d"[\s\S]*<\/decision>/, d('a', 'b') + d('b', 'a'));
  const err = await t.throwsAsync(compileDmn('cycle.dmn', xml), { instanceOf: ParseError });
  t.regex(err.message, /cycle: a → b → a/);
});

test('XML that is not well formed, or not DMN, is refused', async (t) => {
  await t.throwsAsync(compileDmn('x.dmn', '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"><decision id="a">'), { instanceOf: ParseError });
  const bpmn = '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="x"><process id="p" /></definitions>';
  await t.throwsAsync(compileDmn('p.dmn', bpmn), { instanceOf: ParseError });
});

test('an element DMN does not know is refused with its line', async (t) => {
  const xml = simple('', `${oneInput}<output id="o" name="o" /><rule id="r1"><bogus /><inputEntry id="e"><text>1</text></inputEntry><outputEntry id="oe"><text>1</text></outputEntry></rule>`);
  const err = await t.throwsAsync(compileDmn('u.dmn', xml), { instanceOf: ParseError });
  t.regex(err.message, /bogus/);
  t.true(typeof problemsOf(err, 'u.dmn')[0]!.line === 'number');
});

test('FEEL regular expression functions are refused: JavaScript would run the pattern without a time bound', async (t) => {
  const xml = simple('', `${oneInput}<output id="o" name="o" />${rule('r1', ['matches(?, "^(a+)+$")'], ['replace("a", "a", "b")'])}`);
  const err = await t.throwsAsync(compileDmn('re.dmn', xml), { instanceOf: ParseError });
  t.deepEqual(problemsOf(err, 're.dmn').map((p) => p.mainElementId), ['r1_inputEntry0', 'r1_outputEntry0']);
  t.regex(err.message, /matches\(\) is not supported/);
});

test('a FEEL function feelin does not have is refused, rather than evaluated to null where FEEL Scala gives a value', async (t) => {
  const xml = simple('', `${oneInput}<output id="o" name="o" />${rule('r1', ['is defined(limit)'], ['string join(["a"], ",")'])}`);
  const err = await t.throwsAsync(compileDmn('fn.dmn', xml), { instanceOf: ParseError });
  t.deepEqual(problemsOf(err, 'fn.dmn').map((p) => p.mainElementId), ['r1_inputEntry0']);
  t.regex(err.message, /unknown FEEL function is defined\(\)/);
});
