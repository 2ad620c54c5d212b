/**
 * The one way the UI talks to the server: every request goes through `apiFetch`, which adds the signed-in
 * credentials (`Authorization: Bearer …`, `X-Scope-OrgID`), turns error answers into `ApiError`s with the
 * server's message (a 403 into a sentence saying which tenant or role is missing), and on a 401 asks for a key
 * (auth-ui.ts registers the dialog) and retries. Nothing else in web/ calls `fetch`.
 */
import {
  AUTH_DISABLED,
  authHeaders,
  type Credentials,
  forbiddenMessage,
  loadCredentials,
  parseWhoAmI,
  redactSecret,
  type Stores,
  type WhoAmI,
} from '../src/auth.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The server's error code (`unauthenticated`, `permission_denied`, `not_found`, …), when it sent one. */
    readonly code = '',
  ) {
    super(message);
  }
}

/** localStorage and sessionStorage, either of which may be unavailable (privacy modes, sandboxed frames). */
export function browserStores(): Stores {
  const get = (name: 'localStorage' | 'sessionStorage') => {
    try {
      return window[name];
    } catch {
      return undefined;
    }
  };
  return { local: get('localStorage'), session: get('sessionStorage') };
}

let credentials: Credentials | undefined = loadCredentials(browserStores())?.credentials;
let identity: WhoAmI | undefined;
const identityListeners: Array<() => void> = [];

export function currentCredentials(): Credentials | undefined {
  return credentials;
}

export function setCredentials(c: Credentials | undefined): void {
  credentials = c;
}

/** What the server said about the current credentials (whoami), once known. */
export function currentIdentity(): WhoAmI | undefined {
  return identity;
}

export function setIdentity(who: WhoAmI | undefined): void {
  identity = who;
  for (const fn of identityListeners) fn();
}

export function onIdentityChange(fn: () => void): void {
  identityListeners.push(fn);
}

type SignInHandler = (reason: string) => Promise<void>;
let signInHandler: SignInHandler | undefined;
let pendingSignIn: Promise<void> | undefined;

/** Registers what to do on a 401: show the sign-in dialog; the promise settles once a key was accepted. */
export function onSignInRequired(fn: SignInHandler): void {
  signInHandler = fn;
}

/** One dialog for every request that got a 401 meanwhile; an aborted request stops waiting for it. */
function waitForSignIn(reason: string, signal: AbortSignal | null | undefined): Promise<void> {
  const handler = signInHandler as SignInHandler;
  if (!pendingSignIn)
    pendingSignIn = handler(reason).finally(() => {
      pendingSignIn = undefined;
    });
  const pending = pendingSignIn;
  if (!signal) return pending;
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    signal.addEventListener('abort', () => reject(abortError()), { once: true });
    pending.then(resolve, reject);
  });
}

function abortError(): Error {
  return new DOMException('The request was aborted.', 'AbortError');
}

export interface ApiFetchOptions {
  /** Credentials to try instead of the signed-in ones (the sign-in dialog checking a key). */
  credentials?: Credentials;
  /** Ask for a key on a 401 and retry (default); false makes a 401 an ApiError like any other. */
  signIn?: boolean;
}

/**
 * `fetch` for the server's own APIs (a path on this origin): adds the credentials, throws an ApiError for any
 * answer that is not 2xx, and on a 401 waits for a sign-in and tries again.
 */
export async function apiFetch(
  path: string,
  init: RequestInit = {},
  opts: ApiFetchOptions = {},
): Promise<Response> {
  // Credentials only ever go to this server.
  if (!path.startsWith('/') || path.startsWith('//')) throw new Error(`not a path on this server: ${path}`);
  for (;;) {
    const creds = opts.credentials ?? credentials;
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(authHeaders(creds))) headers.set(name, value);
    const res = await fetch(path, { ...init, headers, credentials: 'same-origin' });
    if (res.ok) return res;
    const { message, code } = await errorBody(res);
    const safe = redactSecret(message, creds?.key ?? '');
    if (res.status === 401 && opts.signIn !== false && opts.credentials === undefined && signInHandler) {
      await waitForSignIn(safe, init.signal);
      continue;
    }
    if (res.status === 403)
      throw new ApiError(forbiddenMessage(safe, identity, creds?.tenant ?? ''), 403, code);
    throw new ApiError(safe, res.status, code);
  }
}

async function errorBody(res: Response): Promise<{ message: string; code: string }> {
  let message = `${res.status} ${res.statusText}`.trim();
  let code = '';
  try {
    const body = (await res.json()) as { message?: unknown; code?: unknown };
    if (typeof body.message === 'string' && body.message) message = body.message;
    if (typeof body.code === 'string') code = body.code;
  } catch {
    // not JSON: keep the status line
  }
  return { message, code };
}

/**
 * `GET /api/v1/auth/whoami` with the given (default: current) credentials. A server without the route (404)
 * has no authentication.
 */
export async function whoAmI(
  c: Credentials | undefined = credentials,
  signal?: AbortSignal,
): Promise<WhoAmI> {
  try {
    const res = await apiFetch(
      '/api/v1/auth/whoami',
      { cache: 'no-store', signal },
      { credentials: c ?? { key: '', tenant: '' }, signIn: false },
    );
    return parseWhoAmI(await res.json());
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return AUTH_DISABLED;
    throw err;
  }
}
