import { runServerCommand } from './server-command.js';

const usage = `Usage: emberscope <command> [options]

Commands:
  server    Run the Emberscope server (HTTP API, ingest and embedded storage).

Run "emberscope <command> --help" for the options of a command.`;

/** Entry point of the `emberscope` command; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'server':
      return runServerCommand(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(usage);
      return command === undefined ? 2 : 0;
    default:
      console.error(`emberscope: unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}
