/**
 * The one error class of the checkpoint readers (ZIP, pickle, PyTorch .pth). Whatever is wrong with a
 * file (truncated, corrupt, malicious, an unsupported feature) surfaces as a CheckpointError, so
 * callers and fuzzers can tell "bad input" apart from a bug in segkit.
 */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';

  /**
   * @param file the file (or '<buffer>') being read
   * @param reason what is wrong, and where inside the file when known
   */
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
  }
}

/**
 * Runs `fn`; any error that is not already a CheckpointError becomes one (keeping it as the cause),
 * so callers see one error class. Readers throw CheckpointErrors for every problem they check, so
 * an "unexpected" error here is a gap in their checks (tests and fuzzers look for this wording).
 */
export async function asCheckpointError<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    const err = e as Error;
    throw new CheckpointError(file, `unexpected ${err?.name ?? 'error'} while reading: ${err?.message ?? String(e)}`, { cause: e });
  }
}
