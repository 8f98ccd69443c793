/**
 * The policy sections of the configuration schema: who is trusted, what is scanned, which headers
 * are written, what each score leads to, where spam is routed and what happens when scanning fails.
 */
import { z } from 'zod';

/** `required + 5`, `required-2.5`. */
export const RELATIVE_THRESHOLD = /^required\s*([+-])\s*(\d+(?:\.\d+)?)$/;

const bytes = (fallback: number, help: string) =>
  z.number().int().positive().default(fallback).describe(help);

/**
 * A score threshold: a number is absolute; `required + N` / `required - N` is relative to the
 * scanner's required score (written out, because YAML would read a bare `+10` as the number 10).
 */
export const Threshold = z
  .union([
    z.number(),
    z.string().regex(RELATIVE_THRESHOLD, 'a number, or "required + N" / "required - N"'),
  ])
  .nullable();

/** `local@domain`, no brackets or spaces. */
const MAILBOX = /^[^\s<>@]+@[^\s<>@]+$/;

/** How mail from a trusted source is treated. */
export const TrustMode = z.enum(['skip', 'tag', 'scan']);

/** What to do when scanning fails. */
export const FailureAction = z.enum(['accept', 'tempfail', 'reject']);

const reply = (code: number, enhanced: string, text: string) =>
  z
    .strictObject({
      code: z
        .number()
        .int()
        .min(code < 500 ? 400 : 500)
        .max(code < 500 ? 499 : 599)
        .default(code)
        .describe('SMTP reply code'),
      enhanced: z
        .string()
        .regex(/^\d\.\d{1,3}\.\d{1,3}$/)
        .default(enhanced)
        .describe('enhanced status code'),
      text: z
        .string()
        .min(1)
        .max(900)
        .regex(/^[^\r\n]*$/, 'one line')
        .default(text)
        .describe('reply text; %{score}, %{required}, %{ref} and %{id} are replaced'),
    })
    .prefault({});

/** The policy sections, spread into the whole configuration schema. */
export const POLICY_SECTIONS = {
  trust: z
    .strictObject({
      networks: z
        .array(z.string().min(1))
        .default(['127.0.0.0/8', '::1/128'])
        .describe('trusted client networks (CIDR); replaces the default list'),
      networksMode: TrustMode.default('skip').describe(
        'mail from trusted networks: skip (not scanned), tag (never rejected) or scan',
      ),
      authenticatedMode: TrustMode.default('skip').describe(
        'mail from SMTP-authenticated senders: skip, tag or scan',
      ),
      optOutRecipients: z
        .array(z.string().min(1))
        .default([])
        .describe(
          'recipients (a@example.org) or domains (@example.org) never filtered; a message to only these is not scanned',
        ),
      accessMap: z
        .string()
        .min(1)
        .nullable()
        .default(null)
        .describe(
          'access map file (client, sender, recipient, AUTH user → OK, REJECT, DISCARD, SCAN, NEXT or patterns; docs/access-map.md); reread on SIGHUP',
        ),
      maxRecipients: z
        .number()
        .int()
        .positive()
        .nullable()
        .default(null)
        .describe(
          'recipients per message from untrusted clients; more get 452 4.5.3; null: no cap',
        ),
    })
    .prefault({}),
  scan: z
    .strictObject({
      maxScanBytes: bytes(
        512 * 1024,
        'messages larger than this are not scanned (like spamc); they pass stamped as skipped',
      ),
      oversize: z
        .enum(['skip', 'truncate'])
        .default('skip')
        .describe(
          'a message above maxScanBytes: skip (not scanned) or truncate (its first maxScanBytes scanned); delivery is never truncated',
        ),
      bypassPhrase: z
        .string()
        .min(4)
        .regex(/^[^\r\n]*$/, 'one line')
        .nullable()
        .default(null)
        .describe(
          'mail whose Subject or body contains this phrase is tagged but never refused; null: none',
        ),
      prefsUser: z
        .enum(['fixed', 'recipient-local-part', 'recipient', 'auth'])
        .default('fixed')
        .describe(
          'whose per-user preferences the scanner applies: fixed (scanner.spamd.user or none), the single recipient (local part or full address), or the AUTH user; falls back to fixed',
        ),
    })
    .prefault({}),
  routing: z
    .strictObject({
      spamCopyTo: z
        .array(z.string().regex(MAILBOX, 'an address like spam@example.org'))
        .default([])
        .describe('add these recipients to spam (a copy for review)'),
      spamRedirectTo: z
        .string()
        .regex(MAILBOX, 'an address like quarantine@example.org')
        .nullable()
        .default(null)
        .describe('deliver spam only here, not to its recipients; null: no redirect'),
      hamCopyTo: z
        .array(z.string().regex(MAILBOX, 'an address like ham@example.org'))
        .default([])
        .describe('add these recipients to mail scanned as ham'),
      archiveTo: z
        .array(z.string().regex(MAILBOX, 'an address like archive@example.org'))
        .default([])
        .describe('add these recipients to every message delivered, scanned or not'),
      origToHeader: z
        .string()
        .regex(/^[!-9;-~]+$/, 'a header field name')
        .default('X-Spam-Orig-To')
        .describe('header recording the original recipients of redirected spam'),
    })
    .prefault({})
    .describe(
      'extra or replacement recipients by verdict (needs the MTA to allow ADDRCPT/DELRCPT)',
    ),
  headers: z
    .strictObject({
      profile: z
        .enum(['spamassassin', 'rspamd', 'both'])
        .default('spamassassin')
        .describe('which X-Spam header family to write'),
      report: z.boolean().default(false).describe('add X-Spam-Report with the rule list'),
      removeForged: z
        .boolean()
        .default(true)
        .describe('delete X-Spam-* headers of the family that arrive with the message'),
    })
    .prefault({}),
  subjectTag: z
    .strictObject({
      enabled: z.boolean().default(false).describe('prefix the Subject of spam'),
      text: z.string().min(1).default('[SPAM]').describe('the prefix; %{score} is replaced'),
    })
    .prefault({}),
  actions: z
    .strictObject({
      followScanner: z
        .boolean()
        .default(false)
        .describe(
          "apply the scanner's recommended action (rspamd: reject, soft reject/greylist → tempfail)",
        ),
      reject: Threshold.default(null).describe(
        'reject at this score (a number, or "required + N"); null: never',
      ),
      tempfail: Threshold.default(null).describe('tempfail at this score; null: never'),
      discard: Threshold.default(null).describe('discard silently at this score; null: never'),
      quarantine: Threshold.default(null).describe(
        'hold in the MTA quarantine at this score; null: never',
      ),
      rejectReply: reply(550, '5.7.1', 'Message rejected as spam (score %{score}, ref %{ref})'),
      tempfailReply: reply(451, '4.7.1', 'Message deferred (ref %{ref}); try again later'),
    })
    .prefault({}),
  failure: z
    .strictObject({
      unavailable: FailureAction.default('tempfail').describe(
        'when no scanner answers (down, refused, overloaded)',
      ),
      timeout: FailureAction.default('tempfail').describe(
        'when the scan or the decision misses its deadline',
      ),
      error: FailureAction.default('tempfail').describe(
        'when the scanner answers garbage or an error',
      ),
    })
    .prefault({})
    .describe('what happens to mail when scanning fails; accept stamps the message as unscanned'),
};
