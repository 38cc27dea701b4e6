import { api, inGroup, isAdmin } from './api.ts';
import { h } from './dom.ts';
import { t } from './i18n.ts';
import { act } from './shell.ts';

/** Administrators and the office may suspend and activate instances (the server enforces it too). */
export function maySuspend(): boolean {
  return isAdmin() || inGroup('office');
}

/** Whether a historic instance still runs: Camunda's history calls a suspended one SUSPENDED, not ACTIVE. */
export function isRunning(instance: { state: string }): boolean {
  return instance.state === 'ACTIVE' || instance.state === 'SUSPENDED';
}

/**
 * The 已挂起 / Suspended badge with what it means, and the suspend or
 * activate button for those who may (PUT /process-instance/{id}/suspended).
 */
export function suspensionControls(instanceId: string, suspended: boolean): HTMLElement {
  const toggle = () => act(() => api('PUT', `/process-instance/${instanceId}/suspended`, { suspended: !suspended }), t(suspended ? 'activatedDone' : 'suspendedDone'));
  return h('span', { class: 'suspension', id: 'suspension' },
    suspended ? h('span', { class: 'state state-SUSPENDED', id: 'suspended-badge', title: t('suspendedHint') }, t('SUSPENDED')) : '',
    maySuspend()
      ? h('button', { type: 'button', class: 'secondary', id: suspended ? 'activate-instance' : 'suspend-instance', onclick: toggle }, t(suspended ? 'activate' : 'suspend'))
      : '');
}
