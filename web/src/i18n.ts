/** Chinese first, English on request; dates always in Asia/Shanghai. */
export type Lang = 'zh' | 'en';

const zh = {
  appTitle: '信用平台安全治理', login: '登录', username: '用户名', password: '密码', loginFailed: '登录失败：',
  sessionExpired: '登录已过期，请重新登录', logout: '退出', myTasks: '我的任务', roleTasks: '本角色任务', start: '发起流程',
  tasks: '待办', noTasks: '没有任务', claim: '认领', unclaim: '退回', open: '办理', process: '流程', created: '创建时间',
  due: '到期', overdue: '已逾期', dueSoon: '即将到期', assignee: '办理人', candidates: '候选角色', complete: '提交办理',
  completed: '任务已提交', claimFirst: '此任务尚未认领，认领后办理', started: '流程已发起', noProcesses: '没有可发起的流程',
  startProcess: '发起', businessKey: '业务编号（可选）', back: '返回', loading: '加载中…', notFound: '任务不存在或无权查看',
  required: '{label}为必填项', minlength: '{label}至少需要 {n} 个字符', maxlength: '{label}最多 {n} 个字符',
  integer: '{label}必须是整数', min: '{label}不能小于 {n}', max: '{label}不能大于 {n}', date: '{label}必须是有效日期',
  choose: '请选择', formErrors: '请更正表单中的错误', serverError: '服务器拒绝：', diagram: '流程图', form: '表单',
  noForm: '此步骤没有表单字段', forbidden: '无权发起此流程', myRoles: '我的角色',
};
const en: typeof zh = {
  appTitle: 'Security workflow', login: 'Sign in', username: 'User name', password: 'Password', loginFailed: 'Sign-in failed: ',
  sessionExpired: 'Your session has expired; please sign in again', logout: 'Sign out', myTasks: 'My tasks', roleTasks: "My roles' tasks", start: 'Start a process',
  tasks: 'Tasks', noTasks: 'No tasks', claim: 'Claim', unclaim: 'Unclaim', open: 'Open', process: 'Process', created: 'Created',
  due: 'Due', overdue: 'Overdue', dueSoon: 'Due soon', assignee: 'Assignee', candidates: 'Offered to', complete: 'Complete',
  completed: 'Task completed', claimFirst: 'This task is not claimed yet; claim it to work on it', started: 'Process started', noProcesses: 'No process you may start',
  startProcess: 'Start', businessKey: 'Business key (optional)', back: 'Back', loading: 'Loading…', notFound: 'No such task, or not yours to see',
  required: '{label} is required', minlength: '{label} needs at least {n} characters', maxlength: '{label} takes at most {n} characters',
  integer: '{label} must be a whole number', min: '{label} must be at least {n}', max: '{label} must be at most {n}', date: '{label} must be a valid date',
  choose: 'Choose…', formErrors: 'Please correct the form', serverError: 'Refused by the server: ', diagram: 'Diagram', form: 'Form',
  noForm: 'This step has no form fields', forbidden: 'You may not start this process', myRoles: 'My roles',
};
export type Key = keyof typeof zh;

export function lang(): Lang {
  return localStorage.getItem('lang') === 'en' ? 'en' : 'zh';
}

export function setLang(l: Lang): void {
  localStorage.setItem('lang', l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  return (lang() === 'en' ? en : zh)[key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

/** Labels in the diagrams read "中文 / English": show the half of the current language. */
export function pick(text: string | null | undefined): string {
  if (!text) return '';
  const parts = text.split(' / ');
  if (parts.length !== 2) return text;
  return lang() === 'en' ? parts[1] : parts[0];
}

/** The server's dates (`2026-11-25T15:52:25.000+0800`) as a Date. */
export function parseServerDate(s: string | null | undefined): Date | null {
  if (!s) return null;
  const d = new Date(s.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDateTime(d: Date | null): string {
  if (!d) return '';
  return new Intl.DateTimeFormat(lang() === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(d);
}

/** yyyy-MM-dd of a moment in Asia/Shanghai. */
export function shanghaiDay(d: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}
