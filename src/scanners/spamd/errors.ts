/**
 * spamd-specific refinement of the shared scanner errors (same codes, so callers need not know it).
 */
import { BadResponseError } from '../errors.ts';

/**
 * The reply stopped before it was complete (no status line end, no blank line after the headers,
 * fewer body bytes than `Content-length`). The client turns it into a ConnectionError when the
 * server closed early; as a pure parse result it is a bad answer.
 */
export class TruncatedReplyError extends BadResponseError {
  /** Bytes of the reply that were present. */
  readonly received: number;

  constructor(scanner: string, detail: string, received: number) {
    super(scanner, `truncated after ${received} bytes: ${detail}`);
    this.name = 'TruncatedReplyError';
    this.received = received;
  }
}
