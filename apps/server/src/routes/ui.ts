import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The web UI (apps/ui, built by Vite into apps/ui/dist): `/` and the hashed assets under `/assets/`, served from
 * disk with no CDN, so it works offline. Only explicit UI paths fall back to index.html; API routes are never
 * shadowed (unknown paths keep the JSON 404).
 */
export const UI_DIST = fileURLToPath(new URL('../../../ui/dist/', import.meta.url));

/** Client-side views (the app reads its state from the query string); `/targets` is the pull-mode Targets page. */
export const UI_PAGES = ['/', '/single', '/comparison', '/diff', '/explore', '/adhoc', '/targets'] as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

export function registerUiRoutes(app: FastifyInstance, root: string = UI_DIST): void {
  const sendIndex = async (reply: FastifyReply) => {
    let html: Buffer;
    try {
      html = await readFile(path.join(root, 'index.html'));
    } catch {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The Emberscope UI is not built: run `npm run build` (it builds apps/ui into apps/ui/dist).\n');
    }
    // index.html names the current asset hashes, so it must never be cached.
    return reply.type(TYPES['.html']).header('cache-control', 'no-cache').send(html);
  };
  for (const page of UI_PAGES)
    app.get(page, { config: { access: 'public' } }, async (_request, reply) => sendIndex(reply));

  app.get('/assets/*', { config: { access: 'public' } }, async (request, reply) => {
    const rel = (request.params as { '*': string })['*'];
    const file = path.resolve(root, 'assets', rel);
    // No escaping the assets directory (`..`, encoded or not).
    if (!file.startsWith(path.resolve(root, 'assets') + path.sep)) return reply.callNotFound();
    try {
      const info = await stat(file);
      if (!info.isFile()) return reply.callNotFound();
    } catch {
      return reply.callNotFound();
    }
    // Asset names carry a content hash: cache them for a year.
    return reply
      .type(TYPES[path.extname(file)] ?? 'application/octet-stream')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(await readFile(file));
  });
}
