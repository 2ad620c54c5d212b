import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { buildInfo } from '../version.js';
import type { ScrapeJobConfig } from './config.js';

export const USER_AGENT = `Emberscope-scraper/${buildInfo.version}`;

/** Reads the job's credential and TLS files; done per scrape so that rotated files are picked up. */
export async function requestOptions(job: ScrapeJobConfig): Promise<{
  headers: Record<string, string>;
  tls: https.RequestOptions;
}> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: '*/*' };
  if (job.basicAuth) {
    const password = job.basicAuth.passwordFile
      ? (await readFile(job.basicAuth.passwordFile, 'utf8')).trim()
      : (job.basicAuth.password ?? '');
    headers.authorization = `Basic ${Buffer.from(`${job.basicAuth.username}:${password}`).toString('base64')}`;
  }
  if (job.authorization) {
    const credentials = job.authorization.credentialsFile
      ? (await readFile(job.authorization.credentialsFile, 'utf8')).trim()
      : (job.authorization.credentials ?? '');
    headers.authorization = `${job.authorization.type} ${credentials}`;
  }
  const t = job.tlsConfig;
  const tls: https.RequestOptions = { rejectUnauthorized: !t.insecureSkipVerify };
  if (job.scheme === 'https') {
    if (t.caFile) tls.ca = await readFile(t.caFile);
    if (t.certFile) tls.cert = await readFile(t.certFile);
    if (t.keyFile) tls.key = await readFile(t.keyFile);
    if (t.serverName) tls.servername = t.serverName;
  }
  return { headers, tls };
}

/**
 * GETs `url` and returns the body of a 2xx answer. Rejects on any other status (with the start of the
 * body in the message), on a body larger than `maxBytes`, and when `signal` aborts.
 */
export function httpGet(
  url: URL,
  options: {
    headers: Record<string, string>;
    tls: https.RequestOptions;
    signal: AbortSignal;
    maxBytes: number;
  },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(
      url,
      { method: 'GET', headers: options.headers, signal: options.signal, ...options.tls, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            req.destroy(new Error(`response body larger than ${options.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) {
            const text = body.subarray(0, 200).toString('utf8').replace(/\s+/g, ' ').trim();
            reject(new Error(`server returned HTTP ${status}${text ? `: ${text}` : ''}`));
          } else resolve(body);
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
