import { api, type Definition } from './api.ts';

/** Definitions change only by deployment: read them once per page load, again after a deployment. */
let all: Promise<Definition[]> | null = null;

export function definitions(): Promise<Definition[]> {
  all ??= api<Definition[]>('GET', '/process-definition?sortBy=key&sortOrder=asc').catch((err) => {
    all = null;
    throw err;
  });
  return all;
}

export function forgetDefinitions(): void {
  all = null;
}

/** The latest version of each process, by name. */
export async function latestDefinitions(): Promise<Definition[]> {
  const latest = new Map<string, Definition>();
  for (const d of await definitions()) if ((latest.get(d.key)?.version ?? 0) < d.version) latest.set(d.key, d);
  return [...latest.values()].sort((a, b) => (a.name ?? a.key).localeCompare(b.name ?? b.key, 'zh-CN'));
}

export async function definitionName(id: string): Promise<string> {
  const d = (await definitions()).find((x) => x.id === id);
  return d ? d.name ?? d.key : id;
}
