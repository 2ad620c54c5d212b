import { describe, expect, it } from 'vitest';
import { isTyping, SHORTCUTS, shortcutOf, toggledTableView } from '../src/shortcuts.js';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

describe('keyboard shortcuts', () => {
  it('maps the keys to actions', () => {
    expect(shortcutOf(key('/'), false)).toBe('search');
    expect(shortcutOf(key('f', { ctrlKey: true }), false)).toBe('search');
    expect(shortcutOf(key('F', { metaKey: true }), false)).toBe('search');
    expect(shortcutOf(key('Escape'), false)).toBe('escape');
    expect(shortcutOf(key('r'), false)).toBe('resetZoom');
    expect(shortcutOf(key('t'), false)).toBe('toggleTable');
    expect(shortcutOf(key('b'), false)).toBe('toggleBottomUp');
    expect(shortcutOf(key('?'), false)).toBe('help');
    expect(shortcutOf(key('x'), false)).toBeUndefined();
  });

  it('stays out of the way while typing and of the browser’s own shortcuts', () => {
    for (const k of ['/', 'r', 't', 'b', '?']) expect(shortcutOf(key(k), true)).toBeUndefined();
    expect(shortcutOf(key('f', { ctrlKey: true }), true)).toBeUndefined();
    // Esc still reaches the page (it clears the search box, then leaves it).
    expect(shortcutOf(key('Escape'), true)).toBe('escape');
    expect(shortcutOf(key('r', { ctrlKey: true }), false)).toBeUndefined(); // reload
    expect(shortcutOf(key('t', { metaKey: true }), false)).toBeUndefined(); // new tab
    expect(shortcutOf(key('b', { altKey: true }), false)).toBeUndefined();
  });

  it('knows what typing is', () => {
    expect(isTyping({ tagName: 'INPUT', type: 'search' })).toBe(true);
    expect(isTyping({ tagName: 'input' })).toBe(true);
    expect(isTyping({ tagName: 'INPUT', type: 'password' })).toBe(true);
    expect(isTyping({ tagName: 'TEXTAREA' })).toBe(true);
    expect(isTyping({ tagName: 'SELECT' })).toBe(true);
    expect(isTyping({ tagName: 'DIV', isContentEditable: true })).toBe(true);
    // A focused checkbox or button takes no text: shortcuts still work.
    expect(isTyping({ tagName: 'INPUT', type: 'checkbox' })).toBe(false);
    expect(isTyping({ tagName: 'BUTTON' })).toBe(false);
    expect(isTyping({ tagName: 'BODY' })).toBe(false);
    expect(isTyping(null)).toBe(false);
  });

  it('toggles the table and lists every action once', () => {
    expect(toggledTableView('both')).toBe('graph');
    expect(toggledTableView('table')).toBe('graph');
    expect(toggledTableView('graph')).toBe('both');
    const actions = SHORTCUTS.map((s) => s.action);
    expect(new Set(actions).size).toBe(actions.length);
    expect(actions).toEqual(['search', 'escape', 'resetZoom', 'toggleTable', 'toggleBottomUp', 'help']);
  });
});
