/**
 * Camunda's `active=true` / `suspended=true` query parameters as one filter:
 * true for suspended only, false for active only. Camunda's REST applies
 * `active()` then `suspended()` to one suspension state, so with both the
 * later, suspended, wins; `false` for either means "no filter", as there.
 */
export function suspensionFilterOf(active: boolean | undefined, suspended: boolean | undefined): boolean | undefined {
  if (suspended) return true;
  if (active) return false;
  return undefined;
}
