import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Build information in the shape of Pyroscope's /api/v1/status/buildinfo `data`. */
export const buildInfo = {
  version: pkg.version,
  revision: process.env.EMBERSCOPE_REVISION ?? '',
  branch: process.env.EMBERSCOPE_BRANCH ?? '',
  buildUser: '',
  buildDate: '',
  goVersion: '',
  nodeVersion: process.version,
};
