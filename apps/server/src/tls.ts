import { X509Certificate } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createSecureContext, type Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ConfigError, type ServerConfig } from './config.js';

/**
 * HTTPS for the server: the certificate and key named by `tls_cert_file` / `tls_key_file`, checked at
 * startup (a clear error rather than a server that fails every handshake) and reloaded without restart
 * when either file changes, as certificate managers (cert-manager, certbot, Kubernetes secrets) rotate them.
 */

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** The TLS files of the configuration, or undefined when TLS is off; both or neither must be set. */
export function tlsFiles(config: Pick<ServerConfig, 'tls_cert_file' | 'tls_key_file'>): TlsFiles | undefined {
  const { tls_cert_file: certFile, tls_key_file: keyFile } = config;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile)
    throw new ConfigError(
      `--tls-cert-file and --tls-key-file must be set together (only ${certFile ? '--tls-cert-file' : '--tls-key-file'} is set)`,
    );
  return { certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

/** Reads both files and checks that they make a usable pair (PEM parses, the key matches the certificate). */
export async function readTlsPair(files: TlsFiles): Promise<TlsPair> {
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} file ${file}: ${(err as Error).message}`);
    }
  };
  const pair = { cert: await read(files.certFile, 'certificate'), key: await read(files.keyFile, 'key') };
  try {
    createSecureContext(pair);
    new X509Certificate(pair.cert);
  } catch (err) {
    throw new Error(
      `TLS certificate ${files.certFile} and key ${files.keyFile} are not a usable pair: ${(err as Error).message}`,
    );
  }
  return pair;
}

/** Startup: the pair, or a ConfigError naming the file and what is wrong with it. */
export async function loadTls(config: ServerConfig): Promise<{ files: TlsFiles; pair: TlsPair } | undefined> {
  const files = tlsFiles(config);
  if (!files) return undefined;
  try {
    return { files, pair: await readTlsPair(files) };
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/** What a log line or metric says about a certificate. */
export function describeCertificate(cert: Buffer): {
  subject: string;
  notAfter: string;
  fingerprint256: string;
} {
  const x = new X509Certificate(cert);
  return { subject: x.subject.replaceAll('\n', ', '), notAfter: x.validTo, fingerprint256: x.fingerprint256 };
}

export interface TlsReloaderOptions {
  /** Wait for writes to settle (a rotation writes two files) before reloading. Default 250 ms. */
  debounceMs?: number;
  /** Also check the files this often, for filesystems where watching misses changes. Default 30 s. */
  pollMs?: number;
}

/**
 * Watches the certificate and key and swaps them into the running server (`setSecureContext`): new
 * connections get the new pair, established ones keep theirs. A pair that does not load is logged and
 * counted, and the server keeps serving the previous one.
 */
export class TlsReloader {
  private current: TlsPair;
  /** The last content that failed, so that polling does not log the same failure again and again. */
  private lastFailed: TlsPair | undefined;
  private watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private readonly reloads: Counter<'result'>;
  private stopped = false;

  constructor(
    private readonly server: Pick<TlsServer, 'setSecureContext'>,
    private readonly files: TlsFiles,
    initial: TlsPair,
    private readonly log: Logger,
    registry: Registry,
    private readonly opts: TlsReloaderOptions = {},
  ) {
    this.current = initial;
    this.reloads = new Counter({
      name: 'emberscope_tls_reloads_total',
      help: 'Reloads of the TLS certificate and key after their files changed, by result (success, failure).',
      labelNames: ['result'] as const,
      registers: [registry],
    });
    const notAfter = () => Date.parse(new X509Certificate(this.current.cert).validTo) / 1000;
    new Gauge({
      name: 'emberscope_tls_certificate_expiry_timestamp_seconds',
      help: 'Expiry (notAfter) of the TLS certificate being served.',
      registers: [registry],
      collect() {
        this.set(notAfter());
      },
    });
  }

  start(): void {
    const schedule = () => this.schedule();
    for (const dir of new Set([dirname(this.files.certFile), dirname(this.files.keyFile)])) {
      // Watch the directories, not the files: rotations usually write a new file and rename it over the
      // old one (or swap a symlink, as Kubernetes secret volumes do), which a file watch would not follow.
      try {
        const w = watch(dir, { persistent: false }, schedule);
        w.on('error', (err) =>
          this.log.warn({ err, dir }, 'watching the TLS files failed; checking them periodically'),
        );
        this.watchers.push(w);
      } catch (err) {
        this.log.warn({ err, dir }, 'cannot watch the TLS files; checking them periodically');
      }
    }
    this.poll = setInterval(schedule, this.opts.pollMs ?? 30_000);
    this.poll.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    clearTimeout(this.debounce);
    clearInterval(this.poll);
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), this.opts.debounceMs ?? 250);
    this.debounce.unref();
  }

  /** Re-reads the files now; resolves to what happened. Reloads never overlap. */
  reload(): Promise<'unchanged' | 'reloaded' | 'failed'> {
    const run = this.running.then(() => this.reloadOnce());
    this.running = run.catch(() => {});
    return run;
  }

  private async reloadOnce(): Promise<'unchanged' | 'reloaded' | 'failed'> {
    let pair: TlsPair | undefined;
    try {
      pair = {
        cert: await readFile(this.files.certFile),
        key: await readFile(this.files.keyFile),
      };
      if (samePair(pair, this.current)) return 'unchanged';
      if (this.lastFailed && samePair(pair, this.lastFailed)) return 'failed';
      const checked = await readTlsPair(this.files);
      // The files may have changed again between the two reads: use what was checked.
      this.server.setSecureContext(checked);
      this.current = checked;
      this.lastFailed = undefined;
      this.reloads.inc({ result: 'success' });
      this.log.info({ ...this.files, ...describeCertificate(checked.cert) }, 'TLS certificate reloaded');
      return 'reloaded';
    } catch (err) {
      if (pair) this.lastFailed = pair;
      this.reloads.inc({ result: 'failure' });
      this.log.error(
        { ...this.files, error: (err as Error).message, serving: describeCertificate(this.current.cert) },
        'TLS certificate reload failed; still serving the previous certificate',
      );
      return 'failed';
    }
  }
}

const samePair = (a: TlsPair, b: TlsPair) => a.cert.equals(b.cert) && a.key.equals(b.key);
