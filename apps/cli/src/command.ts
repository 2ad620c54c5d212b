import { Args, globalOptions, helpText, type OptionSpec, parseArgs } from './args.js';
import { CliError, ExitCode, exitCodesHelp } from './errors.js';
import { Client } from './http.js';

/** A client subcommand: its flags, help and what it does with a connected client. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  description: string;
  options: OptionSpec[];
  run(args: Args, client: Client): Promise<number>;
}

/** Parses flags, prints --help, runs the command, and turns every error into one stderr line + exit code. */
export async function runCommand(command: Command, argv: string[]): Promise<number> {
  const specs = [...command.options, ...globalOptions];
  const label = `emberscope ${command.name}`;
  try {
    const parsed = parseArgs(argv, specs);
    if (parsed.help) {
      console.log(helpText(command.usage, command.description, specs, exitCodesHelp));
      return ExitCode.Ok;
    }
    const args = new Args(parsed, specs);
    return await command.run(args, new Client(args));
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`${label}: ${err.message}`);
      if (err.exitCode === ExitCode.Usage) console.error(`Run "${label} --help" for usage.`);
      return err.exitCode;
    }
    console.error(`${label}: unexpected error: ${(err as Error)?.stack ?? String(err)}`);
    return ExitCode.ServerError;
  }
}
