import { en, zh } from './messages.ts';

/** Chinese first, English on request; dates always in Asia/Shanghai. */
export type Lang = 'zh' | 'en';

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
