/**
 * `onnx.checker.check_model(full_check=True)` from the ONNX Python package (Debian's python3-onnx;
 * `sudo apt-get install python3-onnx`), run on a written file (Node only). The system Python is
 * tried first because that is where the Debian package installs; a `python3` on PATH is the
 * fallback. When no interpreter can import onnx the result says so instead of failing.
 */
import { spawnSync } from 'node:child_process';

export type CheckerResult =
  | { status: 'passed'; python: string; onnxVersion: string }
  | { status: 'failed'; python: string; onnxVersion: string; message: string }
  | { status: 'unavailable'; message: string };

const CANDIDATES = ['/usr/bin/python3', 'python3'];

const SCRIPT = [
  'import sys, onnx',
  'print(onnx.__version__)',
  'sys.stdout.flush()',
  'onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)',
].join('\n');

let found: { python: string; onnxVersion: string } | null | undefined;

/** The first interpreter that can import onnx, with its onnx version; null when none can (looked up once per process). */
export function findOnnxPython(): { python: string; onnxVersion: string } | null {
  if (found !== undefined) return found;
  found = null;
  for (const python of CANDIDATES) {
    const r = spawnSync(python, ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return (found = { python, onnxVersion: r.stdout.trim() });
  }
  return found;
}

export function checkOnnxFile(path: string): CheckerResult {
  const py = findOnnxPython();
  if (!py) return { status: 'unavailable', message: `no Python with the onnx package (tried ${CANDIDATES.join(', ')}); install Debian's python3-onnx (sudo apt-get install python3-onnx) to run onnx.checker` };
  const r = spawnSync(py.python, ['-c', SCRIPT, path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status === 0) return { status: 'passed', ...py };
  const lines = `${r.stderr ?? ''}`.trim().split('\n');
  return { status: 'failed', ...py, message: lines.slice(-6).join('\n') || `exit status ${r.status}` };
}
