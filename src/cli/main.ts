import type { Command } from './command.js';
import { UsageError } from './command.js';
import { commands } from './commands/index.js';

function help(): string {
  const rows = commands.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`).join('\n');
  return `segkit — semantic segmentation in TypeScript\n\nUsage: segkit <command> [options]\n\nCommands:\n${rows}\n\nRun 'segkit <command> --help' for a command's options.`;
}

/** Finds the longest command name that prefixes the arguments ('data stats' before 'data'). */
function match(argv: string[]): { cmd: Command; rest: string[] } | null {
  let best: { cmd: Command; rest: string[] } | null = null;
  for (const cmd of commands) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.cmd.name.split(' ').length)) {
      best = { cmd, rest: argv.slice(words.length) };
    }
  }
  return best;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    console.log(help());
    return 0;
  }
  const m = match(argv);
  if (!m) {
    console.error(`segkit: unknown command '${argv.join(' ')}'. Valid commands: ${commands.map((c) => c.name).join(', ')}`);
    return 2;
  }
  if (m.rest.includes('--help') || m.rest.includes('-h')) {
    console.log(m.cmd.usage);
    return 0;
  }
  try {
    return (await m.cmd.run(m.rest)) ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`segkit ${m.cmd.name}: ${e.message}\n\n${m.cmd.usage}`);
      return 2;
    }
    console.error(`segkit ${m.cmd.name}: ${(e as Error).message}`);
    if (process.env.SEGKIT_DEBUG) console.error((e as Error).stack);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
