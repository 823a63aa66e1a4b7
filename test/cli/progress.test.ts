// Progress reporter with a fake stream and a fake clock: speed, ETA and elapsed against hand-computed
// values, the TTY line (carriage return, width, redraw rate, log() above the bar, replayed on a tiny
// terminal emulator) and the plain-log cadence.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Progress, type ProgressStream } from '../../src/cli/progress.js';

class FakeStream implements ProgressStream {
  chunks: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns = 80,
  ) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
}

/** A clock the test advances by hand. */
function fakeClock() {
  const c = { t: 0, now: () => c.t };
  return c;
}

/** Replays output on a minimal terminal: \r to column 0, ESC[K clears to the end of the line, \n. */
function screen(out: string): string[] {
  const lines: string[] = [''];
  let col = 0;
  for (let i = 0; i < out.length; i++) {
    const row = lines.length - 1;
    if (out.startsWith('\x1b[K', i)) {
      lines[row] = lines[row]!.slice(0, col);
      i += 2;
    } else if (out[i] === '\r') col = 0;
    else if (out[i] === '\n') {
      lines.push('');
      col = 0;
    } else {
      const l = lines[row]!;
      lines[row] = l.slice(0, col) + out[i] + l.slice(col + 1);
      col++;
    }
  }
  return lines;
}

const visible = (chunk: string) => chunk.replace(/\r|\x1b\[K/g, '');

describe('Progress on a TTY', () => {
  it('redraws one line with \\r: speed, elapsed, ETA by hand, within the width', () => {
    const s = new FakeStream(true, 100);
    const c = fakeClock();
    const p = new Progress({ total: 10, label: 'iter', stream: s, now: c.now });
    for (let i = 0; i < 4; i++) {
      c.t += 500;
      p.tick(1, { loss: 0.42311, lr: 6e-5 });
    }
    // 1 item every 0.5 s → 2 it/s; 6 left → 3 s; 2 s elapsed.
    assert.ok(Math.abs(p.rate! - 2) < 1e-12, `${p.rate}`);
    const last = s.chunks.at(-1)!;
    assert.ok(last.startsWith('\r') && last.endsWith('\x1b[K'), JSON.stringify(last));
    const line = visible(last);
    assert.ok(line.length <= 99, `${line.length} columns`);
    assert.ok(line.startsWith('iter 40% '), line);
    assert.ok(line.includes(' 4/10 loss 0.4231 lr 6.0e-5 2.00 it/s elapsed 0:00:02 eta 0:00:03'), line);
    assert.ok(!line.includes('\n'));
    const filled = line.split('█').length - 1;
    const empty = line.split('░').length - 1;
    assert.ok(filled + empty >= 10, 'bar drawn');
    assert.equal(filled, Math.round(0.4 * (filled + empty)));
  });

  it('smooths speed over ticks (EMA of items and of time, weight 0.3)', () => {
    const c = fakeClock();
    const p = new Progress({ total: 10, label: 'x', stream: new FakeStream(true), now: c.now });
    c.t = 1000;
    p.tick();
    c.t = 1500;
    p.tick();
    // items: 0.3, 0.7·0.3 + 0.3 = 0.51; ms: 300, 0.7·300 + 0.3·500 = 360 → 0.51/0.36 s
    assert.ok(Math.abs(p.rate! - 0.51 / 0.36) < 1e-12, `${p.rate}`);
    assert.ok(Math.abs(p.etaSeconds! - 8 / (0.51 / 0.36)) < 1e-12);
  });

  it('slow loops show s/it', () => {
    const s = new FakeStream(true);
    const c = fakeClock();
    const p = new Progress({ total: 3, label: 'eval', stream: s, now: c.now });
    c.t = 2500;
    p.tick();
    assert.match(visible(s.chunks.at(-1)!), / 2\.50 s\/it elapsed 0:00:03 eta 0:00:05/);
  });

  it('redraws at most every 100 ms, and always at the end', () => {
    const s = new FakeStream(true);
    const c = fakeClock();
    const p = new Progress({ total: 100, label: 'iter', stream: s, now: c.now });
    for (let i = 0; i < 100; i++) {
      c.t += 10;
      p.tick();
    }
    // draws at t = 10 (first), 110, 210, …, 910, and 1000 (count reached total)
    assert.equal(s.chunks.length, 11);
    assert.match(visible(s.chunks.at(-1)!), / 100\/100 /);
  });

  it('fits narrow terminals (bar dropped, line cut)', () => {
    const s = new FakeStream(true, 30);
    const c = fakeClock();
    const p = new Progress({ total: 2000, label: 'iter', stream: s, now: c.now });
    c.t = 1000;
    p.tick(5, { loss: 1.25 });
    const line = visible(s.chunks.at(-1)!);
    assert.equal(line.length, 29);
    assert.ok(!line.includes('█') && !line.includes('░') && line.endsWith('…'), line);
  });

  it('log() prints above the bar without leaving bar residue', () => {
    const s = new FakeStream(true);
    const c = fakeClock();
    const p = new Progress({ total: 50, label: 'iter', stream: s, now: c.now });
    for (let i = 0; i < 3; i++) {
      c.t += 200;
      p.tick(1, { loss: 0.5 });
    }
    p.log('saved iter_3.safetensors');
    c.t += 200;
    p.tick();
    p.done();
    p.log('after');
    const lines = screen(s.chunks.join(''));
    assert.equal(lines[0], 'saved iter_3.safetensors');
    assert.match(lines[1]!, /^iter 8% .* 4\/50 loss 0\.5000 /);
    assert.equal(lines[2], 'after');
    assert.equal(lines[3], '');
    assert.equal(lines.length, 4);
  });
});

describe('Progress in a log file', () => {
  it('a line every logEvery ticks and at done(), no control characters', () => {
    const s = new FakeStream(false);
    const c = fakeClock();
    const p = new Progress({ total: 10, label: 'iter', stream: s, logEvery: 3, now: c.now });
    for (let i = 0; i < 10; i++) {
      c.t += 250;
      p.tick(1, { loss: 0.42311, lr: 6e-5 });
    }
    p.done();
    const out = s.chunks.join('');
    assert.ok(!/[\r\x1b]/.test(out));
    const lines = out.split('\n');
    assert.equal(lines.length, 5, out);
    assert.equal(lines.at(-1), '');
    // 4 it/s; at 3: 0.75 s elapsed → 0:00:01, 7 left → 1.75 s → 0:00:02
    assert.equal(lines[0], '[iter 3/10] loss 0.4231 lr 6.0e-5 4.00 it/s elapsed 0:00:01 eta 0:00:02');
    assert.match(lines[1]!, /^\[iter 6\/10\] /);
    assert.match(lines[2]!, /^\[iter 9\/10\] /);
    assert.match(lines[3]!, /^\[iter 10\/10\] .* eta 0:00:00$/);
  });

  it('a big tick that jumps over a multiple still logs once', () => {
    const s = new FakeStream(false);
    const c = fakeClock();
    const p = new Progress({ label: 'img', stream: s, logEvery: 100, now: c.now });
    c.t = 1000;
    p.tick(64);
    c.t = 2000;
    p.tick(64); // 128 passes 100
    c.t = 3000;
    p.tick(64); // 192: no multiple passed
    assert.equal(s.chunks.length, 1);
    assert.equal(s.chunks[0], '[img 128] 64.00 it/s elapsed 0:00:02\n');
  });

  it('without logEvery, a line every logIntervalMs', () => {
    const s = new FakeStream(false);
    const c = fakeClock();
    const p = new Progress({ total: 10, label: 'iter', stream: s, logIntervalMs: 1000, now: c.now });
    for (let i = 0; i < 10; i++) {
      c.t += 300;
      p.tick();
    }
    p.done();
    // lines at t = 1200 (4 items), 2400 (8), then done at 3000 (10)
    assert.deepEqual(
      s.chunks.map((l) => /^\[iter (\d+)\/10\]/.exec(l)![1]),
      ['4', '8', '10'],
    );
  });

  it('update(count): absolute positions, the first one not timed (resumed run)', () => {
    const s = new FakeStream(false);
    const c = fakeClock();
    const p = new Progress({ label: 'iter', stream: s, logEvery: 2, now: c.now });
    c.t = 30_000; // 30 s of compiling and of iterations done before the resume
    p.update(5000, { loss: '0.5000' });
    p.total = 6000;
    for (const it of [5001, 5002]) {
      c.t += 500;
      p.update(it);
    }
    // 2 it/s from the two timed updates only; 998 left → 499 s; elapsed 31 s since the reporter started
    assert.ok(Math.abs(p.rate! - 2) < 1e-12, `${p.rate}`);
    assert.deepEqual(s.chunks, [
      '[iter 5000] loss 0.5000 ? it/s elapsed 0:00:30\n', // total not known yet
      '[iter 5002/6000] loss 0.5000 2.00 it/s elapsed 0:00:31 eta 0:08:19\n',
    ]);
    assert.throws(() => p.update(4000), /update\(count\) needs an integer ≥ the current count 5002, got 4000/);
    assert.throws(() => (p.total = -1), /total must be a positive integer, got -1/);
  });

  it('strips control characters from fields', () => {
    const s = new FakeStream(false);
    const p = new Progress({ label: 'x', stream: s, logEvery: 1, now: () => 0 });
    p.tick(1, { file: 'a\rb\x1b[2Jc' });
    assert.equal(s.chunks[0], '[x 1] file a b [2Jc ? it/s elapsed 0:00:00\n');
  });
});

describe('Progress errors', () => {
  it('names bad values', () => {
    const s = new FakeStream(false);
    assert.throws(() => new Progress({ total: 0, label: 'x', stream: s }), /total must be a positive integer, got 0/);
    assert.throws(() => new Progress({ label: 'x', stream: s, logEvery: 2.5 }), /logEvery must be a positive integer, got 2.5/);
    const p = new Progress({ label: 'x', stream: s, now: () => 0 });
    assert.throws(() => p.tick(-1), /non-negative integer, got -1/);
    p.done();
    assert.throws(() => p.tick(), /tick\(\) after done\(\)/);
  });
});
