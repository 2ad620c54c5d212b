import type { Command } from './command.js';
import { runCommand } from './command.js';
import { adminCommand } from './commands/admin.js';
import { diffCommand } from './commands/diff.js';
import { exportCommand } from './commands/export.js';
import { ingestCommand } from './commands/ingest.js';
import { queryCommand } from './commands/query.js';
import { topCommand } from './commands/top.js';
import { ExitCode, exitCodesHelp } from './errors.js';

const commands: Command[] = [
  ingestCommand,
  queryCommand,
  exportCommand,
  diffCommand,
  topCommand,
  adminCommand,
];

const usage = `Usage: emberscope <command> [options]

Commands:
  server    run the Emberscope server (HTTP API, ingest and embedded storage)
${commands.map((c) => `  ${c.name.padEnd(8)}  ${c.summary}`).join('\n')}

Client commands talk to a server over HTTP: --url (default http://localhost:4040, or $EMBERSCOPE_URL),
--basic-auth USER:PASS or --bearer-token TOKEN, --tenant ID (X-Scope-OrgID). They work against
Emberscope and Grafana Pyroscope for what both support.
Run "emberscope <command> --help" for the options of a command.

${exitCodesHelp}`;

/** Entry point of the `emberscope` command; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === 'server') {
    // Loaded only when needed: the client commands start without the server's dependencies.
    const { runServerCommand } = await import('./commands/server.js');
    return runServerCommand(rest);
  }
  const command = commands.find((c) => c.name === name);
  if (command) return runCommand(command, rest);
  switch (name) {
    case undefined:
      console.error(usage);
      return ExitCode.Usage;
    case '--help':
    case '-h':
    case 'help':
      if (rest[0]) return main([rest[0], '--help']);
      console.log(usage);
      return ExitCode.Ok;
    default:
      console.error(`emberscope: unknown command "${name}"\n\n${usage}`);
      return ExitCode.Usage;
  }
}
