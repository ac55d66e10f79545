/** The shape of a CLI command. run() returns the exit code (0 ok, 1 operation failed). */
export interface Command {
  name: string;
  summary: string;
  help: string;
  run(argv: string[]): number;
}
