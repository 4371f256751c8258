import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PentimentoError, badArgument, type ErrorCode } from '../engine/errors';

/** Exit status for input the user can fix: a bad flag, a missing file, a broken model folder, an unusable forced provider. */
export const EXIT_BAD_INPUT = 2;
/** Exit status for anything else (a bug, out of memory). */
export const EXIT_FAILURE = 1;

const BAD_INPUT_CODES: ReadonlySet<ErrorCode> = new Set([
  'BAD_ARGUMENT',
  'BAD_IMAGE',
  'BAD_MODEL',
  'MODEL_MISSING',
  'IO_ERROR',
  // A forced provider that cannot start: the user picks another (--provider cpu or auto).
  'PROVIDER_UNAVAILABLE',
]);

type CliOptions = NonNullable<ParseArgsConfig['options']>;

/**
 * The folder the user typed the command in. `npm run` starts scripts in the package root but
 * records the caller's folder in INIT_CWD; a relative path on the command line means that one.
 */
export function userCwd(): string {
  const init = process.env.INIT_CWD;
  if (init && path.isAbsolute(init) && fs.existsSync(init) && fs.statSync(init).isDirectory()) return init;
  return process.cwd();
}

/** A path from the command line, absolute, relative to the user's folder (see userCwd). */
export function resolveUserPath(p: string): string {
  return path.resolve(userCwd(), p);
}

/**
 * `~` or `~/…` at the start of a path, as the shell expands it: for paths inside one argument
 * (`--control cn,image=~/photo.png`), which the shell leaves alone after the first character.
 */
export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/') || (path.sep === '\\' && p.startsWith('~\\'))) return path.join(os.homedir(), p.slice(2));
  return p;
}

/** A negative number (-1, -0.5, -.5, -1e3) given as a string option's value. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * `--name -0.1` becomes `--name=-0.1` for string options: util.parseArgs refuses a value that
 * starts with a dash as ambiguous, though a negative number cannot be a flag here. Then the
 * option's own range check can say what is wrong with the value.
 */
function attachNegativeNumbers(args: string[], options: CliOptions): string[] {
  const takesValue = (arg: string): boolean => {
    if (arg.startsWith('--')) return options[arg.slice(2)]?.type === 'string';
    if (/^-[^-]$/.test(arg)) return Object.values(options).some((o) => o.short === arg[1] && o.type === 'string');
    return false;
  };
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (takesValue(arg) && i + 1 < args.length && NEGATIVE_NUMBER.test(args[i + 1])) {
      // parseArgs takes `--name=value` and `-xvalue` whatever the value starts with.
      out.push(arg.startsWith('--') ? `${arg}=${args[i + 1]}` : `${arg}${args[i + 1]}`);
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** Levenshtein distance, for "did you mean" on a mistyped flag. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** Node's parseArgs messages suggest `--` positionals and quote unevenly; say what to do here instead. */
function parseError(e: unknown, options: CliOptions): PentimentoError {
  const err = e as NodeJS.ErrnoException;
  const message = err instanceof Error ? err.message : String(e);
  if (err?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /Unknown option '([^']+)'/.exec(message)?.[1] ?? message;
    const name = flag.replace(/^-+/, '').split('=')[0];
    const close = Object.keys(options)
      .filter((o) => o.startsWith(name) || editDistance(o, name) <= Math.max(1, Math.floor(name.length / 3)))
      .map((o) => `--${o}`);
    return badArgument(`unknown option ${flag}${close.length ? ` (did you mean ${close.join(' or ')}?)` : ''}; see --help.`);
  }
  if (err?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /Option '(?:-\w, )?(--[\w-]+)/.exec(message)?.[1];
    if (flag && /argument missing/.test(message)) return badArgument(`${flag} needs a value; see --help.`);
    if (flag && /does not take an argument/.test(message)) return badArgument(`${flag} takes no value; see --help.`);
    if (flag && /ambiguous/.test(message)) {
      return badArgument(`${flag} is followed by another option, not a value; to give a value starting with '-', write ${flag}=VALUE.`);
    }
  }
  return badArgument(message.split('\n')[0]);
}

/**
 * The first flag given more than once among parseArgs tokens (`tokens: true`), unless it is
 * repeatable (`multiple`): given twice, the last value would win silently.
 */
export function repeatedFlag(tokens: readonly { kind: string; name?: string }[], options: { readonly [name: string]: { readonly type: string; readonly multiple?: boolean } }): string | undefined {
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined || options[token.name]?.multiple) continue;
    if (seen.has(token.name)) return token.name;
    seen.add(token.name);
  }
  return undefined;
}

/** Strict `util.parseArgs` with positionals; its errors become one-line BAD_ARGUMENTs. */
export function parseCliArgs<const O extends CliOptions>(args: string[], options: O) {
  let parsed;
  try {
    parsed = parseArgs({ args: attachNegativeNumbers(args, options), options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw parseError(e, options);
  }
  const twice = repeatedFlag(parsed.tokens ?? [], options);
  if (twice !== undefined) throw badArgument(`--${twice} is given twice; give it once.`);
  const { tokens: _tokens, ...rest } = parsed;
  return rest;
}

/**
 * Checks an output PNG path before any work: a .png name (another extension would lie about the
 * format; a result also carries its parameters in PNG text chunks), not an existing folder, in
 * an existing writable folder, and not one of the inputs (`inputs` may be undefined).
 * `carriesParameters: false` for PNGs without generation parameters (condition maps).
 */
export function checkOutputPng(
  out: string,
  flag: string,
  inputs: readonly (string | undefined)[] = [],
  opts: { carriesParameters?: boolean } = {},
): void {
  if (fs.existsSync(out) && fs.statSync(out).isDirectory()) throw badArgument(`${flag} ${out} is a folder; give a file name ending in .png.`);
  if (path.extname(out).toLowerCase() !== '.png') {
    const why = opts.carriesParameters === false ? '' : ' (it carries the generation parameters in PNG text chunks)';
    throw badArgument(`${flag} ${out}: the output is a PNG${why}; give a name ending in .png.`);
  }
  const dir = path.dirname(out);
  if (!fs.existsSync(dir)) throw badArgument(`${flag}: the folder ${dir} does not exist.`);
  if (!fs.statSync(dir).isDirectory()) throw badArgument(`${flag}: ${dir} is a file, not a folder to write into.`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw badArgument(`${flag}: the folder ${dir} is not writable; choose another.`);
  }
  const target = realPathOf(out);
  for (const input of inputs) {
    if (input !== undefined && fs.existsSync(input) && realPathOf(input) === target) {
      throw badArgument(`${flag} ${out} is the input file ${input}; choose another name so the original is kept.`);
    }
  }
}

/** The canonical path of a file that may not exist yet: its folder's real path plus its name. */
function realPathOf(file: string): string {
  if (fs.existsSync(file)) return fs.realpathSync(file);
  return path.join(fs.realpathSync(path.dirname(file)), path.basename(file));
}

/**
 * Runs a CLI's main and turns a thrown error into one line on stderr, "name: message", and an
 * exit status (EXIT_BAD_INPUT for expected errors) — never a stack trace, which tells a user
 * nothing about the flag they mistyped. Set PENTIMENTO_DEBUG=1 to see the stack. The process
 * runs in the user's folder (userCwd), so every relative path, also ones resolved deep in the
 * engine, means what the user typed.
 */
export async function runCli(name: string, main: () => Promise<void> | void): Promise<void> {
  try {
    process.chdir(userCwd());
    await main();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${name}: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
    if (process.env.PENTIMENTO_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exitCode = e instanceof PentimentoError && BAD_INPUT_CODES.has(e.code) ? EXIT_BAD_INPUT : EXIT_FAILURE;
  }
}
