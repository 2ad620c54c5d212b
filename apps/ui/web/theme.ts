/** The light/dark theme, remembered in localStorage and shared by every page. */
export type Theme = 'light' | 'dark';
export const THEME_KEY = 'emberscope.theme';

export function initialTheme(): Theme {
  const stored = localStorage.getItem(THEME_KEY);
  if (stored === 'light' || stored === 'dark') return stored;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
