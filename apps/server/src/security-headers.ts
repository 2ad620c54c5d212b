import type { FastifyInstance } from 'fastify';

/**
 * Response headers that keep browsers from being turned against the UI and the API: only the server's own
 * scripts, styles and API may be used (the UI loads nothing from elsewhere), no framing, no MIME sniffing,
 * no referrer leaking query strings (which carry label selectors), and HSTS when served over TLS.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  // The favicon is a data: URL; flame graphs export as blob: downloads.
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * The policy of the self-contained flame graph pages (`/render?format=html`, `/render-diff?format=html`):
 * their viewer is inline script and style by design (the page works saved to disk), so they get their own
 * policy that allows exactly that and nothing else: no fetching, no external resources, no framing.
 */
export const STANDALONE_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** One year; no includeSubDomains, since other hosts of the domain may not serve HTTPS. */
export const HSTS = 'max-age=31536000';

export function securityHeaders(tls: boolean): Record<string, string> {
  return {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    ...(tls ? { 'strict-transport-security': HSTS } : {}),
  };
}

/** Adds the headers to every response (a route may set its own value of any of them, as the HTML exports do). */
export function registerSecurityHeaders(app: FastifyInstance, opts: { tls: boolean }): void {
  const headers = Object.entries(securityHeaders(opts.tls));
  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const [name, value] of headers) if (!reply.hasHeader(name)) reply.header(name, value);
    done(null, payload);
  });
}
