/** A `segkit` sub-command: one file per command under src/cli/commands/. */
export interface Command {
  /** e.g. 'data stats' for a two-word command. */
  name: string;
  /** One line for `segkit --help`. */
  summary: string;
  /** Full usage text printed by `segkit <name> --help` and on a usage error. */
  usage: string;
  run(args: string[]): Promise<number | void>;
}

/** Thrown for bad command-line input: printed with the command's usage, exit code 2, no stack trace. */
export class UsageError extends Error {}

/**
 * Parses `--key value`, `--key=value` and `--flag` options; everything else is positional.
 * `flags` names the options that take no value. Unknown options are an error listing the valid ones.
 */
export function parseArgs(
  args: string[],
  spec: { options?: string[]; flags?: string[]; repeatable?: string[] },
): { positional: string[]; options: Record<string, string | string[] | boolean> } {
  const options: Record<string, string | string[] | boolean> = {};
  const positional: string[] = [];
  const valued = new Set([...(spec.options ?? []), ...(spec.repeatable ?? [])]);
  const flags = new Set(spec.flags ?? []);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (flags.has(key)) {
      if (eq >= 0) throw new UsageError(`--${key} takes no value (got '${a}')`);
      options[key] = true;
    } else if (valued.has(key)) {
      const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`--${key} needs a value`);
      if (spec.repeatable?.includes(key)) options[key] = [...((options[key] as string[] | undefined) ?? []), value];
      else options[key] = value;
    } else {
      const valid = [...valued, ...flags].map((k) => `--${k}`).join(', ') || '(none)';
      throw new UsageError(`unknown option '--${key}'; valid options: ${valid}`);
    }
  }
  return { positional, options };
}
