/**
 * Errors for bad data. Every one names the file (or sample) it is about, what was found and what was
 * expected, so a user can fix the data without a debugger.
 */

/** What kind of problem a {@link DataError} reports; `skipInvalid` loaders count them by kind. */
export type DataErrorKind =
  | 'missing' // a listed file does not exist
  | 'corrupt' // the file exists but cannot be decoded (truncated, not an image, unsupported format)
  | 'size-mismatch' // image and label have different sizes
  | 'label-value' // a label pixel holds a value outside the label set (plus ignore)
  | 'format' // decodable but not usable as is (e.g. an RGB colour label, a 16-bit label above 255)
  | 'layout'; // the dataset folder does not have the expected layout (list file, folders)

/** A problem with the data on disk (not with the code): a missing file, a truncated image, ... */
export class DataError extends Error {
  override readonly name = 'DataError';
  constructor(
    message: string,
    readonly kind: DataErrorKind,
    /** The file the problem is in, when there is one. */
    readonly file?: string,
  ) {
    super(message);
  }
}

export const isDataError = (e: unknown): e is DataError => e instanceof DataError;
