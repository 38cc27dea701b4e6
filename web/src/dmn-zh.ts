import { translateModule } from './modeler-zh.ts';

/**
 * Chinese for dmn-js's own texts (decision table, DRD, literal expression),
 * through the same `translate` override as the BPMN modeler. Hit policies are
 * shown as Chinese with Camunda's name, so the table still reads like the
 * manual.
 */
const zh: Record<string, string> = {
  // Decision table: head, hit policy, context menus
  'Hit policy': '命中策略', 'Hit policy:': '命中策略：', When: '当', And: '且', Then: '则', Annotation: '注释', Annotations: '注释',
  Unique: '唯一 Unique', First: '首个 First', Priority: '优先级 Priority', Any: '任一 Any', Collect: '收集 Collect',
  'Collect (Sum)': '收集（求和）Sum', 'Collect (Min)': '收集（最小）Min', 'Collect (Max)': '收集（最大）Max', 'Collect (Count)': '收集（计数）Count',
  'Rule order': '规则顺序 Rule order', 'Output order': '输出顺序 Output order',
  'No overlap is possible and all rules are disjoint. Only a single rule can be matched': '规则互不重叠，只能有一条规则命中',
  'Rules may overlap. The first matching rule will be chosen': '规则可以重叠，取第一条命中的规则',
  'Rules may overlap. The one with the highest priority will be chosen': '规则可以重叠，取优先级最高的一条',
  'Rules may overlap. Their output have to match': '规则可以重叠，但命中规则的输出必须相同',
  'Collects the values of all matching rules': '收集所有命中规则的值',
  'Collects the values of all matching rules and sums up to a single value': '收集所有命中规则的值并求和',
  'Collects the values of all matching rules and uses the lowest value': '收集所有命中规则的值，取最小值',
  'Collects the values of all matching rules and uses the highest value': '收集所有命中规则的值，取最大值',
  'Collects the values of all matching rules and counts the number of them': '统计命中规则的条数',
  'Collects the values of all matching rules in rule order': '按规则顺序收集所有命中规则的值',
  'Collects the values of all matching rules in decreasing output priority order': '按输出优先级从高到低收集所有命中规则的值',
  Input: '输入', Output: '输出', 'Add input': '添加输入', 'Add output': '添加输出', 'Add rule': '添加规则',
  'Add input column left': '在左侧添加输入列', 'Add input column right': '在右侧添加输入列',
  'Add output column left': '在左侧添加输出列', 'Add output column right': '在右侧添加输出列',
  'Add rule above': '在上方添加规则', 'Add rule below': '在下方添加规则', 'Remove input column': '删除输入列',
  'Remove output column': '删除输出列', 'Remove rule': '删除规则', 'Copy input column': '复制输入列', 'Copy output column': '复制输出列',
  'Copy rule': '复制规则', 'Cut input column': '剪切输入列', 'Cut output column': '剪切输出列', 'Cut rule': '剪切规则',
  'Paste input column left': '粘贴输入列到左侧', 'Paste input column right': '粘贴输入列到右侧',
  'Paste output column left': '粘贴输出列到左侧', 'Paste output column right': '粘贴输出列到右侧',
  'Paste rule above': '粘贴规则到上方', 'Paste rule below': '粘贴规则到下方', 'Move rule': '移动规则',
  'Add cell description': '添加单元格说明', 'Remove cell description': '删除单元格说明', Resize: '调整宽度',
  'Edit input': '编辑输入', 'Edit output': '编辑输出', Edit: '编辑',
  'Input label': '输入标签', 'Input label: ': '输入标签：', 'Input expression': '输入表达式', 'Input expression: ': '输入表达式：',
  'Input type': '输入类型', 'Input values': '输入取值', 'Output label': '输出标签', 'Output label: ': '输出标签：',
  'Output name': '输出名称', 'Output name: ': '输出名称：', 'Output type': '输出类型', 'Output values': '输出取值',
  'Expression language': '表达式语言', 'Expression language:': '表达式语言：', 'Expression language: {expressionLanguageLabel}': '表达式语言：{expressionLanguageLabel}',
  'Change cell expression language': '更改单元格表达式语言', 'Editing not supported for set expression language': '此表达式语言不支持可视化编辑',
  Expression: '表达式', 'Enter expression': '输入表达式', 'Variable name': '变量名', 'Variable name:': '变量名：',
  'Variable type': '变量类型', 'Variable type:': '变量类型：', Type: '类型', 'Change type': '更改类型', 'Test type': '检验方式',
  // Value editors of the cells
  'Predefined values': '预定义取值', 'Add predefined values': '添加预定义取值', 'Clear predefined values': '清除预定义取值',
  'Add values': '添加取值', 'No values': '没有取值', 'Custom values': '自定义取值', Values: '取值', Value: '值', 'Set value': '设置值',
  'Match one': '匹配其一', 'Match none': '都不匹配', Include: '包含', Exclude: '排除', 'Strings must be in double quotes': '文本须用双引号括起',
  'String value': '文本值', 'Edit string': '编辑文本', 'Boolean value': '是/否值', 'Edit boolean': '编辑是/否', Yes: '是', No: '否',
  Comparison: '比较', 'Comparison operator': '比较运算符', Range: '区间', 'Range start operator': '区间起点运算符',
  'Range start value': '区间起点值', 'Range end operator': '区间终点运算符', 'Range end value': '区间终点值',
  Equals: '等于', Less: '小于', 'Less or equals': '小于等于', Greater: '大于', 'Greater or equals': '大于等于',
  'Edit number': '编辑数值', 'Start value': '起始值', 'End value': '结束值',
  Date: '日期', 'Date value': '日期值', 'Edit date': '编辑日期', 'Set date': '设置日期', 'Use today': '使用今天',
  'Start date': '开始日期', 'End date': '结束日期', 'Edit start date': '编辑开始日期', 'Edit end date': '编辑结束日期',
  'Date and time': '日期时间', 'Date and time value': '日期时间值', 'Edit date and time': '编辑日期时间', 'Set date and time': '设置日期时间',
  'Start date and time': '开始日期时间', 'End date and time': '结束日期时间', 'Edit start date and time': '编辑开始日期时间',
  'Edit end date and time': '编辑结束日期时间', Time: '时间', 'Time value': '时间值', 'Edit time': '编辑时间', 'Set time': '设置时间',
  'Start time': '开始时间', 'End time': '结束时间', 'Edit start time': '编辑开始时间', 'Edit end time': '编辑结束时间', 'Use now': '使用现在',
  'Duration value': '时长值', 'Edit duration': '编辑时长', 'Set duration': '设置时长', Exactly: '恰好', Before: '早于', After: '晚于', Between: '介于',
  'e.g. { example } ': '例如 { example } ', 'e.g. { sample }': '例如 { sample }',
  // Data types (Camunda's type names stay beside them: they are what the XML holds)
  string: '文本 string', boolean: '是/否 boolean', integer: '整数 integer', long: '长整数 long', double: '小数 double', date: '日期 date',
  // Decision name and the DRD
  'Decision name': '决策名称', 'Decision name: ': '决策名称：', 'Definition ID': '定义 ID', 'Definition name': '定义名称', name: '名称',
  'View DRD': '查看决策需求图', 'Literal expression editor': '文字表达式编辑器',
  'Activate hand tool': '抓手工具', 'Activate lasso tool': '套索工具', 'Create decision': '创建决策', 'Create input data': '创建输入数据',
  'Create knowledge source': '创建知识来源', 'Create knowledge model': '创建业务知识模型', 'Create decision service': '创建决策服务',
  'Append decision': '追加决策', 'Append input data': '追加输入数据', 'Append knowledge source': '追加知识来源',
  'Append business knowledge model': '追加业务知识模型', 'Add text annotation': '添加注释', 'Connect to other element': '连接到其他元素',
  Delete: '删除', 'Change element': '更改元素类型', Decision: '决策', 'Decision (table)': '决策（表）', 'Decision (literal expression)': '决策（文字表达式）',
  'Empty decision': '空决策',
};

export const dmnZhModule = translateModule(zh);
