import { login } from '../api.ts';
import { h, mount } from '../dom.ts';
import { lang, setLang, t } from '../i18n.ts';
import { errorText, flashBox, go, root } from '../shell.ts';

/** Signs in with a server user; `onSignedIn` arms the session's expiry. */
export function loginPage(onSignedIn: () => void): void {
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('div', { class: 'field-error', role: 'alert', id: 'login-error' });
  const form = h('form', { class: 'login card', onsubmit: async (e: SubmitEvent) => {
    e.preventDefault();
    message.textContent = '';
    try {
      await login(user.value.trim(), password.value);
      onSignedIn();
      go('/');
    } catch (err) {
      message.textContent = t('loginFailed') + errorText(err);
    }
  } },
  h('h1', {}, t('appTitle')),
  h('label', { for: 'username' }, t('username')), user,
  h('label', { for: 'password' }, t('password')), password,
  message,
  h('button', { type: 'submit', class: 'primary' }, t('login')),
  h('button', { type: 'button', class: 'link', onclick: () => { setLang(lang() === 'zh' ? 'en' : 'zh'); loginPage(onSignedIn); } }, lang() === 'zh' ? 'English' : '中文'));
  mount(root, h('main', { class: 'center' }, flashBox(), form));
  user.focus();
}
