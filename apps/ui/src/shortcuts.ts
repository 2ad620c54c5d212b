import type { ViewMode } from './url-state.js';

/**
 * Keyboard shortcuts of the profile views, DOM-free: which key does what, and when a key press is typing (in a
 * text field) rather than a shortcut.
 */
export type ShortcutAction = 'search' | 'escape' | 'resetZoom' | 'toggleTable' | 'toggleBottomUp' | 'help';

export const SHORTCUTS: ReadonlyArray<{ keys: string[]; action: ShortcutAction; description: string }> = [
  { keys: ['/'], action: 'search', description: 'Focus the search box (also Ctrl+F / ⌘F)' },
  {
    keys: ['Esc'],
    action: 'escape',
    description: 'Back one zoom step; then clear the search (in the search box: clear it, then leave it)',
  },
  { keys: ['r'], action: 'resetZoom', description: 'Reset the zoom' },
  { keys: ['t'], action: 'toggleTable', description: 'Show or hide the table (single and diff views)' },
  {
    keys: ['b'],
    action: 'toggleBottomUp',
    description: 'Toggle bottom-up: leaves at the root (single and comparison views)',
  },
  { keys: ['?'], action: 'help', description: 'Show or hide this list' },
];

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

/** What a focused element is, as far as typing goes. */
export interface TargetLike {
  tagName: string;
  type?: string;
  isContentEditable?: boolean;
}

/** Inputs that take no text: keys pressed while they have the focus are still shortcuts. */
const NON_TEXT_INPUTS = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file']);

/** Is a key press on this element typing (text fields, selects, editable content)? */
export function isTyping(target: TargetLike | null | undefined): boolean {
  if (!target) return false;
  const tag = target.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable) return true;
  return tag === 'INPUT' && !NON_TEXT_INPUTS.has((target.type ?? 'text').toLowerCase());
}

/** The action of a key press; Esc always (its handler decides what it means while typing), others not while typing. */
export function shortcutOf(e: KeyLike, typing: boolean): ShortcutAction | undefined {
  if (e.key === 'Escape') return 'escape';
  if (typing || e.altKey) return undefined;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f') return 'search';
  if (e.ctrlKey || e.metaKey) return undefined;
  switch (e.key) {
    case '/':
      return 'search';
    case 'r':
      return 'resetZoom';
    case 't':
      return 'toggleTable';
    case 'b':
      return 'toggleBottomUp';
    case '?':
      return 'help';
    default:
      return undefined;
  }
}

/** `t`: hide the table when it shows (table or both), show it next to the graph when hidden. */
export function toggledTableView(view: ViewMode): ViewMode {
  return view === 'graph' ? 'both' : 'graph';
}
