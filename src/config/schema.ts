/**
 * THE configuration schema: every key, its default, its unit (in the key name) and its help text.
 * The YAML file, SPAMWARD_* variables and command-line flags all go through it, and
 * docs/configuration.md is generated from it.
 */
import { z } from 'zod';
import { SCAN_VERBS, type SpamdScanVerb } from '../scanners/spamd/protocol.ts';

/** `required + 5`, `required-2.5`. */
export const RELATIVE_THRESHOLD = /^required\s*([+-])\s*(\d+(?:\.\d+)?)$/;

const ms = (fallback: number, help: string) =>
  z.number().int().positive().default(fallback).describe(help);
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

/** The whole configuration. */
export const ConfigSchema = z.strictObject({
  socket: z
    .string()
    .default('inet:11332@127.0.0.1')
    .describe(
      'where the milter listens: inet:PORT@HOST, inet:HOST:PORT, inet6:PORT@HOST or unix:PATH',
    ),
  socketMode: z
    .string()
    .regex(/^[0-7]{3,4}$/, 'an octal mode like 660')
    .default('660')
    .describe('unix socket permissions (octal)'),
  socketGroup: z.string().min(1).optional().describe('unix socket group, e.g. postfix'),
  logLevel: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('log level'),
  dryRun: z
    .boolean()
    .default(false)
    .describe('evaluate and log everything, but change and reject nothing'),
  milter: z
    .strictObject({
      maxFrameBytes: bytes(
        1024 * 1024,
        'largest milter packet accepted; larger ones close the connection',
      ),
      idleTimeoutMs: ms(600_000, 'close an MTA connection that sends nothing for this long'),
      filterTimeoutMs: ms(120_000, 'deadline for deciding one message at end-of-message'),
      progressIntervalMs: ms(
        10_000,
        'send PROGRESS this often while deciding, so the MTA keeps waiting',
      ),
      shutdownGraceMs: ms(30_000, 'how long SIGTERM waits for messages in flight'),
    })
    .prefault({})
    .describe('milter protocol limits and timeouts'),
  scanner: z
    .strictObject({
      urls: z
        .array(z.string().min(1))
        .default([])
        .describe(
          'scanner URLs (spamd://, spamd+tls://, rspamd://, rspamd+https://); several make a pool; none: bootstrap filter',
        ),
      strategy: z
        .enum(['failover', 'round-robin'])
        .default('failover')
        .describe('how a pool picks its server'),
      connectTimeoutMs: ms(5_000, 'connect timeout per server'),
      scanTimeoutMs: ms(60_000, 'whole scan timeout per server, queueing at the scanner included'),
      maxResponseBytes: bytes(64 * 1024 * 1024, 'largest scanner answer read'),
      maxConcurrent: z.number().int().positive().default(8).describe('scans at once per server'),
      maxQueue: z
        .number()
        .int()
        .nonnegative()
        .default(32)
        .describe('scans waiting per server; more are refused at once'),
      maxErrors: z
        .number()
        .int()
        .positive()
        .default(3)
        .describe('failures within errorTimeMs that mark a server dead'),
      errorTimeMs: ms(10_000, 'window for maxErrors'),
      deadTimeMs: ms(30_000, 'how long a dead server is left alone before it is tried again'),
      spamd: z
        .strictObject({
          verb: z
            .enum(SCAN_VERBS as readonly SpamdScanVerb[] as [SpamdScanVerb, ...SpamdScanVerb[]])
            .default('REPORT')
            .describe('SPAMC verb used to scan'),
          user: z.string().min(1).optional().describe('fixed spamd User: for per-user preferences'),
          compress: z
            .boolean()
            .default(false)
            .describe('send messages deflated (Compress: zlib); not over TLS'),
        })
        .prefault({}),
      rspamd: z
        .strictObject({
          controllerUrl: z
            .string()
            .min(1)
            .optional()
            .describe('controller URL for learning (default: worker host, port 11334)'),
          password: z.string().min(1).optional().describe('controller password (learning only)'),
          settingsId: z.string().min(1).optional().describe('Settings-ID sent with every scan'),
        })
        .prefault({}),
    })
    .prefault({})
    .describe('the spam scanner(s)'),
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
    })
    .prefault({}),
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
});

/** The validated, defaulted configuration. */
export type Config = z.infer<typeof ConfigSchema>;
/** A score threshold as configured. */
export type ThresholdValue = z.infer<typeof Threshold>;
