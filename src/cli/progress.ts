/**
 * Progress reporting for long loops (training, evaluation, benchmarks). On a terminal: one line redrawn
 * in place with a bar, counts, fields, speed, elapsed time and ETA. Elsewhere (a log file, CI): plain
 * lines at a fixed cadence, with no control characters, so logs stay greppable.
 */

/** Where a {@link Progress} writes: `process.stderr`, or anything with `write` (tests). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** Terminal width in characters (Node's TTY streams have it); 80 when absent. */
  columns?: number;
}

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Number of items when known: enables the bar, the percentage and the ETA. */
  total?: number;
  /** Name of what is counted, e.g. 'iter' or 'eval'. */
  label: string;
  /** Default `process.stderr`. */
  stream?: ProgressStream;
  /** Redraw one line in place (default `stream.isTTY`). */
  isTTY?: boolean;
  /** Not a TTY: write a line each time the count passes a multiple of this. */
  logEvery?: number;
  /** Not a TTY and no `logEvery`: write a line when this many ms have passed since the last one (default 10 000). */
  logIntervalMs?: number;
  /** Clock in milliseconds (default `performance.now`); injectable for tests. */
  now?: () => number;
}

/** Minimum time between two redraws of the TTY line (at most 10 per second). */
const REDRAW_MS = 100;
/** Weight of the newest tick in the speed's moving averages. */
const SMOOTHING = 0.3;
const MAX_BAR = 30;
const MIN_BAR = 10;

/** Seconds as h:mm:ss. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const pad = (v: number) => String(v).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

/** A field value for display: 0.4231, 6.0e-5, 12.35, 1234; strings lose control characters. */
function formatValue(v: string | number): string {
  if (typeof v === 'string') return v.replace(/[\x00-\x1f\x7f]/g, ' '); // a stray \r or \n would break the line
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(1);
  if (a < 1) return v.toFixed(4);
  return a >= 1000 ? String(Math.round(v)) : v.toPrecision(4);
}

/**
 * Reports the progress of a loop: call {@link Progress.tick} per item (or {@link Progress.update} with
 * the absolute position) and {@link Progress.done} at the end.
 */
export class Progress {
  private _total: number | undefined;
  private readonly label: string;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly logEvery: number | undefined;
  private readonly logIntervalMs: number;
  private readonly now: () => number;
  private readonly start: number;
  private count = 0;
  private fields = new Map<string, string>();
  // Speed = EMA(items per tick) / EMA(ms per tick), as tqdm smooths: robust to ticks of varying size.
  private emaItems = 0;
  private emaMs = 0;
  private lastTick: number;
  private lastDraw = -Infinity;
  private barShown = false;
  private lastLogTime: number;
  private lastLogCount = -1;
  private updated = false;
  private finished = false;

  constructor(options: ProgressOptions) {
    const { total, label, stream = process.stderr, logEvery, logIntervalMs = 10_000, now = () => performance.now() } = options;
    if (logEvery !== undefined && !(Number.isInteger(logEvery) && logEvery > 0)) throw new Error(`Progress: logEvery must be a positive integer, got ${logEvery}`);
    if (!(logIntervalMs > 0 && Number.isFinite(logIntervalMs))) throw new Error(`Progress: logIntervalMs must be a positive number of ms, got ${logIntervalMs}`);
    this.label = formatValue(label);
    this.total = total;
    this.stream = stream;
    this.tty = options.isTTY ?? Boolean(stream.isTTY);
    this.logEvery = logEvery;
    this.logIntervalMs = logIntervalMs;
    this.now = now;
    this.start = this.lastTick = this.lastLogTime = now();
  }

  /** Number of items, when known (may be set later, e.g. once a resumed run knows its length). */
  get total(): number | undefined {
    return this._total;
  }

  set total(total: number | undefined) {
    if (total !== undefined && !(Number.isInteger(total) && total > 0)) throw new Error(`Progress '${this.label}': total must be a positive integer, got ${total}`);
    this._total = total;
  }

  /** Counts `n` more items and updates the shown fields (a field keeps its last value until changed). */
  tick(n = 1, fields?: Record<string, string | number>): void {
    if (this.finished) throw new Error(`Progress '${this.label}': tick() after done()`);
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`Progress '${this.label}': tick(n) needs a non-negative integer, got ${n}`);
    this.advance(n, fields, true);
  }

  /**
   * Moves to the absolute position `count` (≥ the current one). The first update only sets the starting
   * point of the speed: what came before it (a resumed run's earlier iterations, compiling the train
   * step) is not timed.
   */
  update(count: number, fields?: Record<string, string | number>): void {
    if (this.finished) throw new Error(`Progress '${this.label}': update() after done()`);
    if (!(Number.isInteger(count) && count >= this.count)) throw new Error(`Progress '${this.label}': update(count) needs an integer ≥ the current count ${this.count}, got ${count}`);
    this.advance(count - this.count, fields, this.updated);
    this.updated = true;
  }

  private advance(n: number, fields: Record<string, string | number> | undefined, timed: boolean): void {
    const t = this.now();
    if (timed) {
      this.emaItems = (1 - SMOOTHING) * this.emaItems + SMOOTHING * n;
      this.emaMs = (1 - SMOOTHING) * this.emaMs + SMOOTHING * (t - this.lastTick);
    }
    this.lastTick = t;
    const before = this.count;
    this.count += n;
    for (const [k, v] of Object.entries(fields ?? {})) this.fields.set(formatValue(k), formatValue(v));
    if (this.tty) {
      if (t - this.lastDraw >= REDRAW_MS || this.count === this.total) this.draw(t);
    } else if (this.logEvery !== undefined ? Math.floor(this.count / this.logEvery) > Math.floor(before / this.logEvery) : t - this.lastLogTime >= this.logIntervalMs) {
      this.writeLogLine(t);
    }
  }

  /** Prints a line of its own; on a TTY the bar is cleared first and redrawn below it. */
  log(line: string): void {
    if (this.tty && this.barShown) {
      this.stream.write(`\r\x1b[K${line}\n`);
      this.draw(this.now());
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Shows the final state and ends the line. Further calls do nothing. */
  done(): void {
    if (this.finished) return;
    this.finished = true;
    const t = this.now();
    if (this.tty) {
      this.draw(t);
      this.stream.write('\n');
      this.barShown = false;
    } else if (this.lastLogCount !== this.count) {
      this.writeLogLine(t);
    }
  }

  /** Items per second, smoothed; undefined before time has passed. */
  get rate(): number | undefined {
    return this.emaMs > 0 ? (this.emaItems / this.emaMs) * 1000 : undefined;
  }

  /** Seconds left at the current speed; undefined without a total or a speed. */
  get etaSeconds(): number | undefined {
    const r = this.rate;
    if (this.total === undefined || r === undefined || r <= 0) return undefined;
    return Math.max(0, this.total - this.count) / r;
  }

  /** "[iter 100/2000] loss 0.4231 …" parts after the count: fields, speed, times. */
  private status(t: number): string {
    const r = this.rate;
    const speed = r === undefined || r <= 0 ? '? it/s' : r >= 1 ? `${r.toFixed(2)} it/s` : `${(1 / r).toFixed(2)} s/it`;
    const parts = [...this.fields].map(([k, v]) => `${k} ${v}`);
    parts.push(speed, `elapsed ${formatDuration((t - this.start) / 1000)}`);
    if (this.total !== undefined) {
      const eta = this.etaSeconds;
      parts.push(`eta ${eta === undefined ? '?' : formatDuration(eta)}`);
    }
    return parts.join(' ');
  }

  private countText(): string {
    return this.total === undefined ? String(this.count) : `${this.count}/${this.total}`;
  }

  private writeLogLine(t: number): void {
    this.stream.write(`[${this.label} ${this.countText()}] ${this.status(t)}\n`);
    this.lastLogTime = t;
    this.lastLogCount = this.count;
  }

  /** Redraws the TTY line, fitted to the terminal width (one column spare: a full line may wrap). */
  private draw(t: number): void {
    const width = Math.max(2, (this.stream.columns ?? 80) - 1);
    const pct = this.total === undefined ? '' : ` ${Math.floor((100 * Math.min(this.count, this.total)) / this.total)}%`;
    const head = `${this.label}${pct}`;
    const tail = `${this.countText()} ${this.status(t)}`;
    let line = `${head} ${tail}`;
    const room = width - line.length - 1;
    if (this.total !== undefined && room >= MIN_BAR) {
      const w = Math.min(MAX_BAR, room);
      const filled = Math.round((w * Math.min(this.count, this.total)) / this.total);
      line = `${head} ${'█'.repeat(filled)}${'░'.repeat(w - filled)} ${tail}`;
    }
    if (line.length > width) line = `${line.slice(0, width - 1)}…`;
    this.stream.write(`\r${line}\x1b[K`);
    this.lastDraw = t;
    this.barShown = true;
  }
}
