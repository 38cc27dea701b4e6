import type { Db } from '../store/db.ts';
import { findResource, listResourceChecksums } from '../store/deployments.ts';

/** Camunda 7's diagram image suffixes, in the order its deployer tries them. */
const DIAGRAM_SUFFIXES = ['png', 'jpg', 'gif', 'svg'];
/** Camunda 7's DMN resource suffixes (without the dot, as its deployer strips them). */
const DMN_SUFFIXES = ['dmn11.xml', 'dmn'];
/** Camunda 7's BPMN resource suffixes (BpmnDeployer.BPMN_RESOURCE_SUFFIXES), for a process definition's diagram the same way. */
export const BPMN_SUFFIXES = ['bpmn20.xml', 'bpmn'];

/**
 * The image Camunda 7's deployer would have taken as the diagram of a
 * decision (or decision requirements) definition: from the same deployment,
 * `<resource base>.<key>.<suffix>` first, then `<resource base>.<suffix>`,
 * suffix by suffix (png, jpg, gif, svg); e.g. `dinner.dmn` takes
 * `dinner.dinner.png` or `dinner.png`. A deployment never changes, so finding
 * it now gives what Camunda stored as diagramResourceName at deployment.
 */
export function diagramNameFor(resourceName: string, key: string, names: Set<string>, suffixes = DMN_SUFFIXES): string | null {
  const suffix = suffixes.find((s) => resourceName.endsWith(s));
  const base = suffix ? resourceName.slice(0, -suffix.length) : resourceName;
  for (const image of DIAGRAM_SUFFIXES) {
    for (const candidate of [`${base}${key}.${image}`, `${base}${image}`]) {
      if (names.has(candidate)) return candidate;
    }
  }
  return null;
}

/** The diagram image deployed beside a definition, or null when there is none (Camunda answers 204). */
export async function findDiagram(db: Db, def: { deployment_id: string; resource_name: string; key: string }, suffixes = DMN_SUFFIXES): Promise<{ name: string; bytes: Buffer } | null> {
  const resources = await listResourceChecksums(db, def.deployment_id);
  const name = diagramNameFor(def.resource_name, def.key, new Set(resources.map((r) => r.name)), suffixes);
  const id = resources.find((r) => r.name === name)?.id;
  const row = id ? await findResource(db, def.deployment_id, id) : undefined;
  return row ? { name: row.name, bytes: Buffer.from(row.bytes) } : null;
}

/** Camunda's REST media type for a diagram's file name (ProcessDefinitionResourceImpl.getMediaTypeForFileSuffix). */
export function diagramMediaType(name: string): string {
  const lower = name.toLowerCase();
  if (lower.endsWith('.png')) return 'image/png';
  if (lower.endsWith('.svg')) return 'image/svg+xml';
  if (lower.endsWith('.jpeg') || lower.endsWith('.jpg')) return 'image/jpeg';
  if (lower.endsWith('.gif')) return 'image/gif';
  if (lower.endsWith('.bmp')) return 'image/bmp';
  return 'application/octet-stream';
}
