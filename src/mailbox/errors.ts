/**
 * Why a mailbox path could not be read as messages. Each failure has a stable `code`; the learn
 * command reports them per path and goes on with the others.
 */

/** The stable codes of mailbox failures. */
export const MailboxErrorCode = {
  /** The path does not exist (ENOENT, ENOTDIR). */
  NotFound: 'PATH_NOT_FOUND',
  /** The path exists but cannot be read (permissions, I/O). */
  Unreadable: 'PATH_UNREADABLE',
  /** Neither a regular file nor a directory (a socket, a device, a symlink loop). */
  NotAMailbox: 'NOT_A_MAILBOX',
  /** An mbox entry with nothing after its `From ` line, or an empty message file. */
  EmptyMessage: 'EMPTY_MESSAGE',
  /** The bytes do not start with a header field: not an e-mail message. */
  NotAMessage: 'NOT_A_MESSAGE',
  /** A Maildir folder named by the training loop exists but has no cur/ and new/. */
  NotAMaildir: 'NOT_A_MAILDIR',
  /** A learned message could not be moved into the `--move-to` folder. */
  MoveFailed: 'MOVE_FAILED',
  /** A glob matched nothing. */
  NoMatch: 'NO_MATCH',
} as const;

/** One of the mailbox failure codes. */
export type MailboxErrorCode = (typeof MailboxErrorCode)[keyof typeof MailboxErrorCode];

/** A mailbox failure tied to one path. */
export class MailboxError extends Error {
  /** Stable machine-readable code. */
  readonly code: MailboxErrorCode;
  /** The file or directory concerned. */
  readonly path: string;

  constructor(code: MailboxErrorCode, path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MailboxError';
    this.code = code;
    this.path = path;
  }
}

/** A file-system error as a MailboxError for `path` (ENOENT → not found, others unreadable). */
export function fromFsError(path: string, error: unknown): MailboxError {
  if (error instanceof MailboxError) return error;
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  if (errno === 'ENOENT' || errno === 'ENOTDIR')
    return new MailboxError(MailboxErrorCode.NotFound, path, `${path}: no such file or directory`, {
      cause: error,
    });
  if (errno === 'ELOOP')
    return new MailboxError(MailboxErrorCode.NotAMailbox, path, `${path}: symbolic link loop`, {
      cause: error,
    });
  return new MailboxError(MailboxErrorCode.Unreadable, path, `${path}: ${detail}`, {
    cause: error,
  });
}
