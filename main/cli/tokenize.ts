import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { badArgument } from '../engine/errors';
import { ClipTokenizer } from '../engine/tokenizer/ClipTokenizer';
import { parseCliArgs, resolveUserPath, runCli } from './cliUtil';

const USAGE = `Usage: npm run tokenize -- [--model DIR] [--file F | TEXT ...]
Prints the CLIP token ids of each prompt (always 77: bos, tokens, eos, padding) as one JSON
array per line. TEXT arguments are joined by spaces into one prompt; --file F reads one prompt
per non-empty line. --model DIR uses DIR/tokenizer/ (a diffusers model folder); without it the
bundled CLIP tokenizer is used. Relative paths are relative to the folder you run it in.`;

// The CLIP vocabulary Pentimento carries, so the CLI works on a fresh clone.
const BUNDLED_TOKENIZER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models/assets/clip-tokenizer');

function readPrompts(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw badArgument(`Cannot read the prompt file ${file}: ${(e as Error).message}`);
  }
  const prompts = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (prompts.length === 0) throw badArgument(`The prompt file ${file} has no non-empty lines.`);
  return prompts;
}

/** DIR/tokenizer, once DIR is known to be a folder (a missing model is not a missing vocab.json). */
function tokenizerDir(model: string): string {
  if (!existsSync(model)) throw badArgument(`--model: the folder ${model} does not exist; pass a diffusers model folder (with tokenizer/).`);
  if (!statSync(model).isDirectory()) throw badArgument(`--model ${model} is a file, not a model folder; pass the folder holding tokenizer/.`);
  return path.join(model, 'tokenizer');
}

async function main(): Promise<void> {
  const { values, positionals } = parseCliArgs(process.argv.slice(2), {
    model: { type: 'string' },
    file: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.file !== undefined && positionals.length > 0) {
    throw badArgument('Give either TEXT or --file, not both.');
  }
  if (values.file === undefined && positionals.length === 0) {
    throw badArgument('No prompt: give TEXT or --file F (see --help).');
  }

  const prompts = values.file !== undefined ? readPrompts(resolveUserPath(values.file)) : [positionals.join(' ')];
  const tokenizer = ClipTokenizer.fromFolder(values.model !== undefined ? tokenizerDir(resolveUserPath(values.model)) : BUNDLED_TOKENIZER);

  const lines: string[] = [];
  prompts.forEach((prompt, i) => {
    const { ids, tokenCount, truncated } = tokenizer.encode(prompt);
    if (truncated) {
      const which = prompts.length > 1 ? `Prompt ${i + 1}` : 'The prompt';
      process.stderr.write(
        `warning: ${which} has ${tokenCount} tokens; only the first ${tokenizer.maxContentTokens} reach the text encoder.\n`,
      );
    }
    lines.push(JSON.stringify(ids));
  });
  process.stdout.write(`${lines.join('\n')}\n`);
}

void runCli('tokenize', main);
