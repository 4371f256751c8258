import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PentimentoError, badArgument, type ErrorCode } from '../engine/errors';

/** Exit status for input the user can fix: a bad flag, a missing file, a broken model folder. */
export const EXIT_BAD_INPUT = 2;
/** Exit status for anything else (a bug, out of memory). */
export const EXIT_FAILURE = 1;

const BAD_INPUT_CODES: ReadonlySet<ErrorCode> = new Set([
  'BAD_ARGUMENT',
  'BAD_IMAGE',
  'BAD_MODEL',
  'MODEL_MISSING',
  'IO_ERROR',
]);

type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** Strict `util.parseArgs` with positionals; its errors become BAD_ARGUMENT. */
export function parseCliArgs<const O extends CliOptions>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw badArgument(e instanceof Error ? e.message : String(e));
  }
}

/**
 * Runs a CLI's main and turns a thrown error into one line on stderr, "name: message", and an
 * exit status (EXIT_BAD_INPUT for expected errors) — never a stack trace, which tells a user
 * nothing about the flag they mistyped. Set PENTIMENTO_DEBUG=1 to see the stack.
 */
export async function runCli(name: string, main: () => Promise<void> | void): Promise<void> {
  try {
    await main();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${name}: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
    if (process.env.PENTIMENTO_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exitCode = e instanceof PentimentoError && BAD_INPUT_CODES.has(e.code) ? EXIT_BAD_INPUT : EXIT_FAILURE;
  }
}
