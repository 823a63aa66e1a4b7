// Long fuzzing runs of segkit's parsers (CI runs a short fixed set: test/robustness/fuzz.test.ts).
// Usage: npx tsx scripts/fuzz.ts [--seconds 300] [--target NAME] [--seed S]
// The time is split evenly between the targets. Prints cases run and distinct failures per target,
// then each failure with its case seed and input (base64) to paste into fuzz.test.ts as a regression.
// Exits 1 when anything failed.
import { describeFailure, runTarget, type FuzzReport } from '../test/robustness/runner.js';
import { TARGETS } from '../test/robustness/targets.js';

function parseArgs(argv: string[]): { seconds: number; target?: string; seed: number } {
  const out: { seconds: number; target?: string; seed: number } = { seconds: 300, seed: Date.now() >>> 0 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    if (flag === '--seconds') {
      out.seconds = Number(value);
      if (!(out.seconds > 0)) throw new Error(`--seconds ${value}: expected a positive number`);
    } else if (flag === '--seed') {
      out.seed = Number(value);
      if (!Number.isInteger(out.seed) || out.seed < 0 || out.seed > 0xffffffff) throw new Error(`--seed ${value}: expected an integer 0..4294967295`);
    } else if (flag === '--target') {
      if (!TARGETS.some((t) => t.name === value)) throw new Error(`--target ${value}: expected one of ${TARGETS.map((t) => t.name).join(', ')}`);
      out.target = value;
    } else {
      throw new Error(`unknown option ${flag}; usage: npx tsx scripts/fuzz.ts [--seconds 300] [--target NAME] [--seed S]`);
    }
  }
  return out;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const targets = TARGETS.filter((t) => !args.target || t.name === args.target);
  console.log(`fuzzing ${targets.map((t) => t.name).join(', ')} for ${args.seconds} s, seed ${args.seed}`);
  const reports: FuzzReport[] = [];
  for (const t of targets) {
    const r = await runTarget(t, { seed: args.seed, ms: (args.seconds * 1000) / targets.length });
    reports.push(r);
    console.log(`  ${t.name}: ${r.cases} cases, ${r.failures.size} distinct failures`);
  }
  const rows = reports.map((r) => [r.target, String(r.cases), `${((r.cases * 1000) / r.ms).toFixed(0)}/s`, String(r.failures.size)]);
  const head = ['target', 'cases', 'rate', 'distinct failures'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}`);
  const all = reports.flatMap((r) => [...r.failures.values()].map((f) => describeFailure(r.target, f)));
  if (all.length) console.log(`\nfailures:\n${all.join('\n')}`);
  return all.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error((e as Error).message);
    process.exit(2);
  },
);
