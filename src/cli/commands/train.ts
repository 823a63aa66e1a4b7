/**
 * `segkit train <config>`: runs a built-in recipe or a JSON config into a work dir, with a progress
 * bar, validation, checkpoints, `--resume` and Ctrl-C that saves before exiting.
 */
import { join } from 'node:path';
import { loadTrainConfig } from '../../train/config.js';
import { BUILTIN_CONFIGS, listConfigs } from '../../train/configs/index.js';
import { Trainer } from '../../train/trainer.js';
import { Progress } from '../progress.js';
import { parseArgs, UsageError, type Command } from '../command.js';

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a model from a built-in recipe or a JSON config (work dir with logs, curves and checkpoints)',
  usage: `Usage: segkit train <config-name|config.json> [--work-dir DIR] [--resume] [--load-from CKPT]
                    [--set key.path=value ...] [--print-config]
       segkit train --list

  config        a built-in recipe (segkit train --list) or a JSON file with the same fields
  --work-dir    where logs, curves.svg and checkpoints go (default work_dirs/<config name>)
  --resume      continue from the work dir's newest checkpoint (same schedule and data order)
  --load-from   initialise the weights from a checkpoint (fine-tuning; overrides the config's loadFrom);
                the schedule starts at 0
  --set         override a config value, e.g. --set train.iters=2000 --set data.root=/data/camvid
                (values are JSON when they parse: numbers, true/false, [..], {..})
  --print-config  print the resolved config as JSON and exit

Ctrl-C saves a checkpoint at the end of the current step and exits; run again with --resume.`,
  async run(args) {
    const { positional, options } = parseArgs(args, { options: ['work-dir', 'load-from'], flags: ['resume', 'list', 'print-config'], repeatable: ['set'] });
    if (options.list) {
      for (const c of listConfigs()) console.log(`${c.name.padEnd(56)} ${c.description ?? ''}`);
      return 0;
    }
    if (positional.length !== 1) throw new UsageError(`expected one config, got ${positional.length ? positional.join(' ') : 'none'}`);
    if (options.resume && options['load-from']) throw new UsageError('--resume and --load-from exclude each other (resume restores the run; load-from starts a new one from weights)');
    const config = loadTrainConfig(positional[0]!, BUILTIN_CONFIGS, (options.set as string[] | undefined) ?? []);
    if (options['print-config']) {
      console.log(JSON.stringify(config, null, 2));
      return 0;
    }
    const workDir = (options['work-dir'] as string | undefined) ?? join('work_dirs', config.name);

    // First Ctrl-C: finish the step, save, exit. Second: exit at once (the last checkpoint is intact).
    const stop = new AbortController();
    const onSigint = (): void => {
      if (stop.signal.aborted) process.exit(130);
      progress.log('Ctrl-C: saving a checkpoint after this step (press again to quit without saving)');
      stop.abort();
    };
    const progress = new Progress({ label: config.name, logEvery: config.train.logInterval ?? 10 });
    process.on('SIGINT', onSigint);
    try {
      const r = await new Trainer({
        config,
        workDir,
        resume: Boolean(options.resume),
        loadFrom: options['load-from'] as string | undefined,
        signal: stop.signal,
        reporter: {
          log: (line) => progress.log(line),
          step: (it, total, fields) => {
            progress.total = total;
            progress.update(it, fields);
          },
          done: () => progress.done(),
        },
      }).run();
      console.log(`work dir: ${workDir} (curves.svg, log.txt, scalars.jsonl)${r.checkpoint ? `; checkpoint: ${r.checkpoint}` : ''}`);
      return r.interrupted ? 130 : 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
