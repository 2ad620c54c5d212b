/**
 * Colour by package, stable everywhere: the package part of a frame name is hashed (FNV-1a) into a fixed palette,
 * so the same package has the same colour in every view, every reload and every profile.
 */

/**
 * The package of a frame name, per language convention:
 * - Go: `github.com/acme/shop/cart.(*Cart).Total` → `github.com/acme/shop/cart`, `runtime.mallocgc` → `runtime`
 * - Java: `com.acme.Foo.bar` → `com.acme`
 * - Python: `handler (app/views.py)` / `app/views.py:handler` → `app/views.py`
 * - Node: `handler:/srv/app/views.js:10` / `./views.js:handler` → the file
 * - Rust/C++: `tokio::runtime::park` → `tokio`
 */
const SOURCE_FILE_END = /\.(?:py|js|mjs|cjs|ts|rb|php)(?::|$)/;

export function packageOf(name: string): string {
  const py = /\(([^()]+\.py)\)$/.exec(name);
  if (py) return py[1];
  // The cheap test first: the capturing pattern backtracks at every start position of a name it does not match.
  const file = SOURCE_FILE_END.test(name)
    ? /([^\s:()]+\.(?:py|js|mjs|cjs|ts|rb|php))(?::|$)/.exec(name)
    : null;
  if (file) return file[1];
  if (name.includes('::')) return name.slice(0, name.indexOf('::'));
  const slash = name.lastIndexOf('/');
  if (slash >= 0) {
    const dot = name.indexOf('.', slash);
    return dot >= 0 ? name.slice(0, dot) : name;
  }
  const dot = name.indexOf('.');
  if (dot < 0) return name;
  // Java-style dotted names with a capitalised class: keep the lowercase package segments.
  if (/^[a-z_][\w]*(\.[a-z_][\w]*)*\.[A-Z]/.test(name)) return javaPackage(name);
  return name.slice(0, dot);
}

function javaPackage(dotted: string): string {
  const parts = dotted.split('.');
  const pkg: string[] = [];
  for (const p of parts) {
    if (p === '' || /^[A-Z]/.test(p)) break;
    pkg.push(p);
  }
  return pkg.length > 0 ? pkg.slice(0, Math.min(pkg.length, 3)).join('.') : (parts[0] ?? dotted);
}

export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Warm, readable fills (dark text on them passes contrast), in the spirit of Pyroscope's palette. */
export const PALETTE: readonly string[] = [
  '#f2a65a',
  '#f7c873',
  '#e88c6a',
  '#eeb36d',
  '#d9a36b',
  '#f0996b',
  '#e6c27a',
  '#f5b78a',
  '#9dc4a8',
  '#a9c7e0',
  '#c5b3e0',
  '#e0a8b9',
  '#b8d18f',
  '#8fcdc6',
  '#dab3a0',
  '#f3d28b',
];

export function colorOfPackage(pkg: string): string {
  return PALETTE[fnv1a(pkg) % PALETTE.length];
}

/** Per-name colours computed once per profile (names are fewer than nodes). */
export function colorsOfNames(names: readonly string[]): string[] {
  const cache = new Map<string, string>();
  return names.map((n) => {
    const pkg = packageOf(n);
    let c = cache.get(pkg);
    if (c === undefined) {
      c = colorOfPackage(pkg);
      cache.set(pkg, c);
    }
    return c;
  });
}
