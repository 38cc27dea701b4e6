import fs from 'node:fs';
import path from 'node:path';
import type { Principal } from '../../src/types.ts';

const dir = path.resolve(import.meta.dirname, '../fixtures');

/** The bytes of a test fixture, exactly as on disk. */
export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(dir, name));
}

export const adminPrincipal: Principal = { userId: 'admin', groups: ['camunda-admin'], isAdmin: true };

/** A deployment input of one resource, as Camunda's defaults would make it (no filtering). */
export function oneResource(name: string, bytes: Buffer, options: { deploymentName?: string; filter?: boolean } = {}) {
  return {
    name: options.deploymentName ?? name, source: 'test', tenantId: null,
    duplicateFiltering: options.filter ?? false, changedOnly: options.filter ?? false,
    resources: [{ name, bytes }],
  };
}
