/** The keyboard shortcuts overlay (`?`): a modal list of src/shortcuts.ts's table; Esc or a click outside closes it. */
import { SHORTCUTS } from '../src/shortcuts.js';
import { h } from './dom.js';

let dialog: HTMLDialogElement | undefined;

function build(): HTMLDialogElement {
  const close = h('button', { id: 'shortcuts-close', class: 'dialog-close', 'aria-label': 'Close' }, '×');
  const d = h(
    'dialog',
    { class: 'shortcuts', id: 'shortcuts', 'aria-labelledby': 'shortcuts-title' },
    // The dialog itself has no padding: a click that lands on it and not on this body is on the backdrop.
    h(
      'div',
      { class: 'shortcuts-body' },
      h('div', { class: 'shortcuts-head' }, h('h2', { id: 'shortcuts-title' }, 'Keyboard shortcuts'), close),
      h(
        'table',
        {},
        h(
          'tbody',
          {},
          ...SHORTCUTS.map((s) =>
            h(
              'tr',
              { 'data-action': s.action },
              h('td', {}, ...s.keys.map((k) => h('kbd', {}, k))),
              h('td', {}, s.description),
            ),
          ),
        ),
      ),
      h('p', { class: 'muted' }, 'Shortcuts are off while you type in a text field.'),
    ),
  );
  close.addEventListener('click', () => d.close());
  // A click on the backdrop (outside the dialog's box) closes it.
  d.addEventListener('click', (e) => {
    if (e.target === d) d.close();
  });
  document.body.append(d);
  return d;
}

export function toggleShortcuts(): void {
  dialog ??= build();
  if (dialog.open) dialog.close();
  else dialog.showModal();
}

export function shortcutsOpen(): boolean {
  return dialog?.open === true;
}
