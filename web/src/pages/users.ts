import { api } from '../api.ts';
import { h } from '../dom.ts';
import { pick, t } from '../i18n.ts';
import { act, go, loading, page, param, withParams } from '../shell.ts';
import { table } from '../widgets.ts';

/** A user as GET /user lists it. */
interface User { id: string; firstName: string | null; lastName: string | null; email: string | null }
/** A group as GET /group lists it. */
interface Group { id: string; name: string | null; type: string | null }

const enc = encodeURIComponent;
const field = (id: string, label: string, attrs: Record<string, unknown> = {}) => {
  const input = h('input', { id, ...attrs });
  return { input, label: h('label', {}, label, ' ', input) };
};

/** The new-user form: Camunda's POST /user/create with the initial password. */
function createUserForm(): HTMLElement {
  const id = field('user-new-id', t('userId'), { required: true, autocomplete: 'off' });
  const first = field('user-new-first', t('userFirstName'));
  const last = field('user-new-last', t('userLastName'));
  const email = field('user-new-email', t('userEmail'), { type: 'email' });
  const password = field('user-new-password', t('userPassword'), { type: 'password', required: true, autocomplete: 'new-password' });
  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    const profile = { id: id.input.value, firstName: first.input.value || undefined, lastName: last.input.value || undefined, email: email.input.value || undefined };
    void act(() => api('POST', '/user/create', { profile, credentials: { password: password.input.value } }), t('userCreated'));
  };
  return h('form', { class: 'card', id: 'user-create', onsubmit: submit },
    h('h2', {}, t('userCreate')), id.label, first.label, last.label, email.label, password.label,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'user-create-save' }, t('userCreate'))));
}

/** The new-group form: POST /group/create. */
function createGroupForm(): HTMLElement {
  const id = field('group-new-id', t('groupId'), { required: true, autocomplete: 'off' });
  const name = field('group-new-name', t('groupName'));
  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    void act(() => api('POST', '/group/create', { id: id.input.value, name: name.input.value || undefined }), t('groupCreated'));
  };
  return h('form', { class: 'card', id: 'group-create', onsubmit: submit },
    h('h2', {}, t('groupCreate')), id.label, name.label,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'group-create-save' }, t('groupCreate'))));
}

/** Camunda's PUT /user/{id}/credentials: the administrator confirms with their own password, as the server requires. */
function resetPasswordForm(user: User): HTMLElement {
  const password = field('user-reset-password', t('userNewPassword'), { type: 'password', required: true, autocomplete: 'new-password' });
  const mine = field('user-reset-mine', t('userAdminPassword'), { type: 'password', required: true, autocomplete: 'current-password' });
  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    const body = { password: password.input.value, authenticatedUserPassword: mine.input.value };
    void act(() => api('PUT', `/user/${enc(user.id)}/credentials`, body), t('userPasswordReset'));
  };
  return h('form', { id: 'user-reset', onsubmit: submit },
    h('h3', {}, t('userResetPassword')), password.label, mine.label,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'user-reset-save' }, t('userResetPassword'))));
}

/** One user's profile and memberships, edited in place (PUT /user/{id}/profile, PUT/DELETE /group/{g}/members/{id}). */
async function editUserForm(user: User, groups: Group[]): Promise<HTMLElement> {
  const mine = await api<Group[]>('GET', `/group?member=${enc(user.id)}`);
  const first = field('user-edit-first', t('userFirstName'), { value: user.firstName ?? '' });
  const last = field('user-edit-last', t('userLastName'), { value: user.lastName ?? '' });
  const email = field('user-edit-email', t('userEmail'), { type: 'email', value: user.email ?? '' });
  const save = (e: SubmitEvent) => {
    e.preventDefault();
    const body = { id: user.id, firstName: first.input.value || null, lastName: last.input.value || null, email: email.input.value || null };
    void act(() => api('PUT', `/user/${enc(user.id)}/profile`, body), t('userSaved'));
  };
  const others = groups.filter((g) => !mine.some((m) => m.id === g.id));
  const add = h('select', { id: 'user-edit-group' }, others.map((g) => h('option', { value: g.id }, `${pick(g.name) || g.id} (${g.id})`)));
  const member = (method: 'PUT' | 'DELETE', groupId: string) => act(() => api(method, `/group/${enc(groupId)}/members/${enc(user.id)}`), t('groupMembersChanged'));
  return h('form', { class: 'card', id: 'user-edit', onsubmit: save },
    h('h2', {}, t('userEdit', { id: user.id })), first.label, last.label, email.label,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'user-edit-save' }, t('userSave')),
      h('button', { type: 'button', class: 'secondary', id: 'user-edit-close', onclick: () => go('/users') }, t('webhookCancel'))),
    h('h3', {}, t('userGroups')),
    h('ul', { id: 'user-edit-groups' }, mine.map((g) => h('li', { 'data-id': g.id }, `${pick(g.name) || g.id} (${g.id}) `,
      h('button', { type: 'button', class: 'secondary', onclick: () => void member('DELETE', g.id) }, t('userRemoveFromGroup'))))),
    others.length ? h('div', { class: 'actions' }, add,
      h('button', { type: 'button', id: 'user-edit-add-group', onclick: () => void member('PUT', add.value) }, t('userAddToGroup'))) : null,
  );
}

/** The row's actions on a user: edit (with memberships and password), unlock, delete. */
function userActions(u: User): HTMLElement {
  const remove = () => {
    if (confirm(t('userDeleteConfirm', { id: u.id }))) void act(() => api('DELETE', `/user/${enc(u.id)}`), t('userDeleted'));
  };
  return h('span', { class: 'actions' },
    h('button', { type: 'button', class: 'secondary', onclick: () => go(withParams({ edit: u.id })) }, t('webhookEditAction')),
    h('button', { type: 'button', class: 'secondary', onclick: () => void act(() => api('POST', `/user/${enc(u.id)}/unlock`), t('userUnlocked')) }, t('userUnlock')),
    h('button', { type: 'button', class: 'secondary danger', onclick: remove }, t('userDelete')));
}

/** Administrators' page: users, groups and memberships through Camunda's identity endpoints. */
export async function usersPage(): Promise<void> {
  loading('users');
  const [users, groups] = await Promise.all([api<User[]>('GET', '/user'), api<Group[]>('GET', '/group')]);
  const editing = users.find((u) => u.id === param('edit'));
  const removeGroup = (g: Group) => {
    if (confirm(t('groupDeleteConfirm', { id: g.id }))) void act(() => api('DELETE', `/group/${enc(g.id)}`), t('userDeleted'));
  };
  page('users',
    h('h1', {}, t('usersTitle')),
    h('p', { class: 'muted' }, t('usersIntro')),
    table('user-list', [t('userId'), t('userLastName'), t('userFirstName'), t('userEmail'), ''],
      users.map((u) => [u.id, u.lastName ?? '', u.firstName ?? '', u.email ?? '', userActions(u)]), (i) => ({ 'data-id': users[i].id })),
    editing ? await editUserForm(editing, groups) : createUserForm(),
    editing ? h('div', { class: 'card' }, resetPasswordForm(editing)) : null,
    table('group-list', [t('groupId'), t('groupName'), ''],
      groups.map((g) => [g.id, pick(g.name), h('button', { type: 'button', class: 'secondary danger', onclick: () => removeGroup(g) }, t('userDelete'))]),
      (i) => ({ 'data-id': groups[i].id })),
    createGroupForm());
}
