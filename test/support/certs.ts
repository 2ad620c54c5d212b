/**
 * Throwaway TLS certificates for tests, made with the `openssl` command line (installed by .ci/run): a
 * self-signed EC P-256 certificate valid for a day, for `localhost` and 127.0.0.1 by default.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface TestCert {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** Writes `<name>.crt` and `<name>.key` into `dir`. */
export function makeCert(
  dir: string,
  name: string,
  opts: { commonName?: string; altNames?: string } = {},
): TestCert {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${opts.commonName ?? 'localhost'}`,
      '-addext',
      `subjectAltName=${opts.altNames ?? 'DNS:localhost,IP:127.0.0.1'}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
