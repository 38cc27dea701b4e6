import fs from 'node:fs';
import path from 'node:path';

/** The events with a template of their own in notification-templates/ (see its README.md). */
export const NOTIFICATION_EVENTS = ['task-offered', 'task-assigned', 'instance-ended', 'task-urged', 'task-due-soon', 'task-overdue',
  'task-sent-back', 'task-withdrawn', 'instance-terminated', 'incident-raised', 'instance-rejected', 'instance-cc'] as const;
export type NotificationEvent = typeof NOTIFICATION_EVENTS[number];

export interface Rendered {
  title: string;
  body: string;
}

const DIR = path.join(import.meta.dirname, 'notification-templates');
const cache = new Map<NotificationEvent, string>();

/** The template of `event`, read once (a missing file fails at start-up, see loadTemplates). */
function templateOf(event: NotificationEvent): string {
  let text = cache.get(event);
  if (text === undefined) {
    text = fs.readFileSync(path.join(DIR, `${event}.txt`), 'utf8');
    cache.set(event, text);
  }
  return text;
}

/** Reads every template, so a missing one stops the server at start-up rather than a notification later. */
export function loadTemplates(): void {
  for (const event of NOTIFICATION_EVENTS) templateOf(event);
}

/** Fills `event`'s template with `values`: the first line is the title, the rest after a blank line the body. */
export function renderTemplate(event: NotificationEvent, values: Record<string, string>): Rendered {
  const filled = templateOf(event).replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole);
  const [title, ...rest] = filled.split('\n');
  return { title: title.trim(), body: rest.join('\n').trim() };
}
