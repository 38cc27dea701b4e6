import { lang } from './i18n.ts';

/**
 * Chinese for the modeler's own texts (palette, context pad, replace menu,
 * properties panel), through diagram-js's `translate` service. Texts not
 * listed stay in English: the long help texts, mostly.
 */
const zh: Record<string, string> = {
  // Palette and context pad
  'Activate hand tool': '抓手工具', 'Activate lasso tool': '套索工具', 'Activate create/remove space tool': '增删空间工具',
  'Activate global connect tool': '连线工具', 'Create start event': '创建开始事件', 'Create end event': '创建结束事件',
  'Create intermediate/boundary event': '创建中间/边界事件', 'Create gateway': '创建网关', 'Create task': '创建任务',
  'Create expanded sub-process': '创建展开的子流程', 'Create data object reference': '创建数据对象', 'Create data store reference': '创建数据存储',
  'Create pool/participant': '创建泳池/参与者', 'Create group': '创建分组', 'Append task': '追加任务', 'Append end event': '追加结束事件',
  'Append gateway': '追加网关', 'Append intermediate/boundary event': '追加中间/边界事件', 'Append timer intermediate catch event': '追加定时中间事件',
  'Append message intermediate catch event': '追加消息中间事件', 'Append signal intermediate catch event': '追加信号中间事件',
  'Append receive task': '追加接收任务', 'Append conditional intermediate catch event': '追加条件中间事件', 'Append compensation activity': '追加补偿活动',
  'Add text annotation': '添加注释', 'Change element': '更改元素类型', 'Connect to other element': '连接到其他元素', 'Connect using association': '用关联连接',
  'Connect using data input association': '用数据输入关联连接', Delete: '删除', 'Add lane above': '在上方添加泳道', 'Add lane below': '在下方添加泳道',
  'Divide into two lanes': '分为两条泳道', 'Divide into three lanes': '分为三条泳道', 'Toggle non-interrupting': '切换非中断',
  'Parallel multi-instance': '并行多实例', 'Sequential multi-instance': '串行多实例', Loop: '循环',
  // Replace menu
  Task: '任务', 'User task': '用户任务', 'Service task': '服务任务', 'Send task': '发送任务', 'Receive task': '接收任务', 'Manual task': '人工任务',
  'Business rule task': '业务规则任务', 'Script task': '脚本任务', 'Call activity': '调用活动', 'Sub-process': '子流程',
  'Sub-process (collapsed)': '子流程（折叠）', 'Sub-process (expanded)': '子流程（展开）', 'Event sub-process': '事件子流程', 'Transaction': '事务',
  'Exclusive gateway': '排他网关', 'Parallel gateway': '并行网关', 'Inclusive gateway': '包容网关', 'Complex gateway': '复杂网关', 'Event-based gateway': '事件网关',
  'Start event': '开始事件', 'End event': '结束事件', 'Intermediate throw event': '中间抛出事件', 'Message start event': '消息开始事件',
  'Timer start event': '定时开始事件', 'Signal start event': '信号开始事件', 'Conditional start event': '条件开始事件',
  'Message intermediate catch event': '消息中间捕获事件', 'Message intermediate throw event': '消息中间抛出事件',
  'Timer intermediate catch event': '定时中间捕获事件', 'Signal intermediate catch event': '信号中间捕获事件',
  'Signal intermediate throw event': '信号中间抛出事件', 'Message end event': '消息结束事件', 'Error end event': '错误结束事件',
  'Terminate end event': '终止结束事件', 'Signal end event': '信号结束事件', 'Escalation end event': '升级结束事件',
  'Message boundary event': '消息边界事件', 'Timer boundary event': '定时边界事件', 'Error boundary event': '错误边界事件',
  'Signal boundary event': '信号边界事件', 'Conditional boundary event': '条件边界事件', 'Escalation boundary event': '升级边界事件',
  'Message boundary event (non-interrupting)': '消息边界事件（非中断）', 'Timer boundary event (non-interrupting)': '定时边界事件（非中断）',
  'Signal boundary event (non-interrupting)': '信号边界事件（非中断）', 'Sequence flow': '顺序流', 'Default flow': '默认流', 'Conditional flow': '条件流',
  // Properties panel
  General: '常规', Name: '名称', ID: '标识 ID', 'Version tag': '版本标签', Executable: '可执行', Documentation: '说明文档',
  'Element documentation': '元素说明', 'Process documentation': '流程说明', 'User assignment': '办理人分配', Assignee: '办理人',
  'Candidate groups': '候选角色（组）', 'Candidate users': '候选用户', 'Due date': '到期时间', 'Follow up date': '跟进时间', Priority: '优先级',
  Forms: '表单', Form: '表单', 'Form fields': '表单字段', 'Form key': '表单键', 'Form reference': '表单引用', Type: '类型', Label: '标签',
  'Default value': '默认值', Constraints: '校验约束', Values: '选项', Properties: '属性', Config: '配置', Value: '值', Timer: '定时器',
  Date: '日期', Duration: '时长', Cycle: '周期', Implementation: '实现方式', 'Implementation type': '实现类型', 'External task': '外部任务',
  Topic: '主题', 'Retry time cycle': '重试周期', 'Asynchronous continuations': '异步延续', Before: '之前', After: '之后', Exclusive: '独占',
  'Asynchronous before': '之前异步', 'Asynchronous after': '之后异步', Inputs: '输入', Outputs: '输出', 'Execution listeners': '执行监听器',
  'Task listeners': '任务监听器', 'Extension properties': '扩展属性', Condition: '条件', 'Condition expression': '条件表达式',
  'Condition Expression': '条件表达式', Expression: '表达式', Script: '脚本', Message: '消息', 'Global message reference': '全局消息引用',
  Signal: '信号', 'Global signal reference': '全局信号引用', Error: '错误', 'Global error reference': '全局错误引用', Code: '代码',
  'Candidate starter': '候选发起人', 'Candidate starter groups': '候选发起角色（组）', 'Candidate starter users': '候选发起用户',
  'Start initiator': '发起人', Initiator: '发起人变量', 'History cleanup': '历史清理', 'Time to live': '保留期限', Tasklist: '待办列表',
  Startable: '可在待办中发起', 'Job execution': '作业执行', 'Multi-instance': '多实例', 'Loop cardinality': '循环次数', Collection: '集合',
  'Element variable': '元素变量', 'Completion condition': '完成条件', 'Called element': '被调用元素', 'Business key': '业务编号',
  'In mappings': '输入映射', 'Out mappings': '输出映射', 'Process variables': '流程变量', Retries: '重试次数', 'Result variable': '结果变量',
  'Select an element to edit its properties.': '选择一个元素以编辑其属性。',
  'Multiple elements are selected. Select a single element to edit its properties.': '已选择多个元素，请只选一个以编辑其属性。',
  'Specify more than one group as a comma separated list.': '多个角色用逗号分隔。', 'Specify more than one user as a comma separated list.': '多个用户用逗号分隔。',
  'Process ID': '流程 ID', 'Process name': '流程名称', 'Participant Name': '参与者名称', 'Event type': '事件类型', 'Variable name': '变量名',
  'ID must be unique.': 'ID 必须唯一。', 'ID must not be empty.': 'ID 不能为空。', 'ID must not contain spaces.': 'ID 不能包含空格。',
  'ID must be a valid QName.': 'ID 必须是合法的 QName。', '<none>': '<无>', '<empty>': '<空>', string: '文本', long: '整数', boolean: '是/否', date: '日期', enum: '枚举',
};

/**
 * A diagram-js module overriding `translate` (signature: a template with
 * {placeholders}) with a table of Chinese texts; dmn-js's views share it.
 */
export function translateModule(table: Record<string, string>): Record<string, unknown> {
  const translate = (template: string, replacements: Record<string, string> = {}): string => {
    const text = lang() === 'zh' ? table[template] ?? template : template;
    return text.replace(/{([^}]+)}/g, (_, key: string) => replacements[key] ?? `{${key}}`);
  };
  return { translate: ['value', translate] };
}

export const zhTranslateModule = translateModule(zh);
