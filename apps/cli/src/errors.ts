/** Exit codes of every `emberscope` subcommand; scripts can rely on them. */
export const ExitCode = {
  Ok: 0,
  /** The server answered with an error, or could not be reached. */
  ServerError: 1,
  /** Bad flags or arguments. */
  Usage: 2,
  /** The query matched nothing (no data, unknown name). */
  NotFound: 3,
} as const;

export const exitCodesHelp = `Exit codes:
  0  success
  1  server or network error (the server's {code,message} is printed), or not supported by the server
  2  usage error (unknown flag, missing or malformed argument)
  3  not found / no data in the selected range`;

/** An error that ends the command with one line on stderr and the given exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.Usage);
  }
}

export class NoDataError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.NotFound);
  }
}
