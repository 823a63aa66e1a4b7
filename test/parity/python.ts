// Finding a python3 that can import torch (Debian python3-torch), shared by every test and
// benchmark that compares against PyTorch.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface TorchPython {
  python: string;
  env: NodeJS.ProcessEnv;
}

let cached: TorchPython | string | undefined;

/**
 * A python3 that can import torch, or the reason there is none. Debian's python3-torch can fail with
 * "liblapack.so.3: cannot open shared object file" when the liblapack alternatives link is missing; the
 * library is then still in its private directory, so that directory is tried on LD_LIBRARY_PATH too.
 * `SEGKIT_PYTHON` names another interpreter to try first.
 */
export function findTorchPython(): TorchPython | string {
  if (cached !== undefined) return cached;
  const lapack = '/usr/lib/x86_64-linux-gnu/lapack';
  const envs: NodeJS.ProcessEnv[] = [process.env];
  if (existsSync(lapack)) envs.push({ ...process.env, LD_LIBRARY_PATH: [lapack, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') });
  let why = '';
  for (const python of [process.env.SEGKIT_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p)) {
    for (const env of envs) {
      const r = spawnSync(python, ['-c', 'import torch'], { env, encoding: 'utf8', timeout: 120_000 });
      if (r.status === 0) return (cached = { python, env });
      why ||= r.error ? `${python}: ${r.error.message}` : `${python}: ${r.stderr.trim().split('\n').pop()}`;
    }
  }
  return (cached = why);
}
