/**
 * rspamd's `/checkv2` JSON reply (3.4) → the normalised Verdict. Pure: no I/O. The schema
 * tolerates unknown fields (rspamd adds some in every release) but insists on the three the
 * verdict cannot do without: `action`, `score` and `required_score`.
 */
import { z } from 'zod';
import { assertNever } from '../../shared/assert-never.ts';
import { BadResponseError, ServerError } from '../errors.ts';
import type { HeaderAdd, HeaderRemove, ScanSymbol, Verdict } from '../verdict.ts';
import { ScanAction } from '../verdict.ts';

const symbolSchema = z.object({
  score: z.number(),
  description: z.string().optional(),
  options: z.array(z.string()).optional(),
});

const headerValueSchema = z.union([
  z.string(),
  z.object({
    value: z.string(),
    order: z.number().int().optional(),
    index: z.number().int().optional(),
  }),
]);

const milterSchema = z.object({
  add_headers: z
    .record(z.string(), z.union([headerValueSchema, z.array(headerValueSchema)]))
    .optional(),
  remove_headers: z.record(z.string(), z.number().int()).optional(),
});

/** The fields of a `/checkv2` reply Spamward uses. */
export const checkReplySchema = z.object({
  action: z.string(),
  score: z.number(),
  required_score: z.number(),
  is_spam: z.boolean().optional(),
  symbols: z.record(z.string(), symbolSchema).optional(),
  messages: z.object({ smtp_message: z.string().optional() }).optional(),
  subject: z.string().optional(),
  milter: milterSchema.optional(),
  'dkim-signature': z.union([z.string(), z.array(z.string())]).optional(),
  'message-id': z.string().optional(),
});

/** A `/checkv2` reply as validated by checkReplySchema. */
export type CheckReply = z.infer<typeof checkReplySchema>;

const errorBodySchema = z.object({ error: z.string() });

const ACTIONS: ReadonlyMap<string, ScanAction> = new Map(
  Object.values(ScanAction).map((action) => [action, action]),
);

/**
 * Is this verdict spam? rspamd's own `is_spam` wins when the reply has it (the v1 shape does).
 * Otherwise the actions that mark or refuse the message for its content count as spam: reject,
 * rewrite subject, add header (what rspamd 3.4 itself reports as `is_spam` for them). `soft reject`
 * does not: rspamd uses it for greylisting and rate limits (score 0), a "try later", not a verdict
 * on the content. `greylist` and `no action` are ham.
 */
export function isSpamAction(action: ScanAction): boolean {
  switch (action) {
    case ScanAction.Reject:
    case ScanAction.RewriteSubject:
    case ScanAction.AddHeader:
      return true;
    case ScanAction.SoftReject:
    case ScanAction.Greylist:
    case ScanAction.NoAction:
      return false;
    default:
      return assertNever(action);
  }
}

/** The text of an rspamd `{"error": "..."}` body, if the bytes are one. */
export function errorText(body: Buffer): string | undefined {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(body.toString('utf8')));
    return parsed.success ? parsed.data.error : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Parses a `/checkv2` reply body into a Verdict. A body that is rspamd's `{"error": ...}` becomes
 * a ServerError (retryable only for a 5xx `status`); anything else that is not a valid reply
 * becomes a BadResponseError.
 */
export function parseCheckReply(body: Buffer, scannerUrl: string, status = 200): Verdict {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new BadResponseError(scannerUrl, `not JSON (${body.length} bytes)`, { cause: error });
  }
  const parsed = checkReplySchema.safeParse(json);
  if (!parsed.success) {
    const failed = errorBodySchema.safeParse(json);
    if (failed.success) {
      throw new ServerError(scannerUrl, status, failed.data.error, status >= 500);
    }
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'reply' : issue.path.join('.');
    throw new BadResponseError(scannerUrl, `${where}: ${issue?.message ?? 'invalid'}`, {
      cause: parsed.error,
    });
  }
  return toVerdict(parsed.data, scannerUrl);
}

/** Maps a validated reply onto the Verdict shape. */
export function toVerdict(reply: CheckReply, scannerUrl: string): Verdict {
  // rspamd spells actions with spaces; config files use underscores: accept both.
  const action = ACTIONS.get(reply.action.replaceAll('_', ' ').toLowerCase());
  if (action === undefined) {
    throw new BadResponseError(scannerUrl, `unsupported action "${reply.action}"`);
  }
  const smtpMessage = reply.messages?.smtp_message;
  const messageId = reply['message-id'];
  return {
    scanner: scannerUrl,
    score: reply.score,
    required: reply.required_score,
    isSpam: reply.is_spam ?? isSpamAction(action),
    action,
    symbols: symbolsOf(reply),
    addHeaders: [...dkimHeaders(reply), ...addHeadersOf(reply)],
    removeHeaders: removeHeadersOf(reply),
    ...(reply.subject === undefined ? {} : { subject: reply.subject }),
    ...(smtpMessage === undefined || smtpMessage === '' ? {} : { smtpMessage }),
    ...(messageId === undefined ? {} : { messageId }),
  };
}

/** Symbols sorted by score (highest first), then name: rspamd's key order varies between runs. */
function symbolsOf(reply: CheckReply): ScanSymbol[] {
  return Object.entries(reply.symbols ?? {})
    .map(([name, s]): ScanSymbol => {
      const symbol: ScanSymbol = { name, score: s.score };
      return {
        ...symbol,
        ...(s.description === undefined ? {} : { description: s.description }),
        ...(s.options === undefined ? {} : { options: s.options }),
      };
    })
    .sort((a, b) => b.score - a.score || compareNames(a.name, b.name));
}

/**
 * `milter.add_headers` in its three shapes (string; `{value, order}`; an array of those), sorted
 * by name since the JSON key order is random (rspamd #4352); values of one name keep their order.
 * `order` -1 means append, which is an absent `order` in a HeaderAdd.
 */
function addHeadersOf(reply: CheckReply): HeaderAdd[] {
  const adds: HeaderAdd[] = [];
  const entries = Object.entries(reply.milter?.add_headers ?? {}).sort(([a], [b]) =>
    compareNames(a, b),
  );
  for (const [name, spec] of entries) {
    for (const one of Array.isArray(spec) ? spec : [spec]) {
      if (typeof one === 'string') {
        adds.push({ name, value: one });
        continue;
      }
      const order = one.order ?? one.index;
      adds.push(
        order === undefined || order === -1
          ? { name, value: one.value }
          : { name, value: one.value, order },
      );
    }
  }
  return adds;
}

/** `dkim-signature` goes on top as rspamd's proxy puts it: index 1, 2, … */
function dkimHeaders(reply: CheckReply): HeaderAdd[] {
  const sig = reply['dkim-signature'];
  if (sig === undefined) return [];
  return (Array.isArray(sig) ? sig : [sig]).map((value, i) => ({
    name: 'DKIM-Signature',
    value,
    order: i + 1,
  }));
}

/** `milter.remove_headers`: 0 = every copy, n > 0 = the n-th, n < 0 = the |n|-th from the end. */
function removeHeadersOf(reply: CheckReply): HeaderRemove[] {
  return Object.entries(reply.milter?.remove_headers ?? {})
    .sort(([a], [b]) => compareNames(a, b))
    .map(([name, index]) => ({ name, index }));
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
