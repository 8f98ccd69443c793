/**
 * THE configuration schema: every key, its default, its unit (in the key name) and its help text.
 * The YAML file, SPAMWARD_* variables and command-line flags all go through it, and
 * docs/configuration.md is generated from it.
 */
import { z } from 'zod';
import { SCAN_VERBS, type SpamdScanVerb } from '../scanners/spamd/protocol.ts';
import { POLICY_SECTIONS, type Threshold } from './policy-schema.ts';

export { RELATIVE_THRESHOLD } from './policy-schema.ts';

const ms = (fallback: number, help: string) =>
  z.number().int().positive().default(fallback).describe(help);
const bytes = (fallback: number, help: string) =>
  z.number().int().positive().default(fallback).describe(help);

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
  user: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe(
      'started as root: the user to switch to once the socket is bound (e.g. spamward); owns the socket and the built-in data dir',
    ),
  group: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe("the group to switch to with user (default: the user's primary group)"),
  allowRoot: z
    .boolean()
    .default(false)
    .describe('keep running as root when no user is set (refused otherwise)'),
  logLevel: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('log level'),
  dryRun: z
    .boolean()
    .default(false)
    .describe('evaluate and log everything, but change and reject nothing'),
  metrics: z
    .strictObject({
      listen: z
        .string()
        .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'HOST:PORT, e.g. 127.0.0.1:9101')
        .nullable()
        .default(null)
        .describe('serve Prometheus metrics on http://HOST:PORT/metrics; null: off'),
    })
    .prefault({})
    .describe('Prometheus metrics'),
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
      trace: z
        .boolean()
        .default(false)
        .describe(
          'log every milter command and reply at debug level (names and sizes, never content)',
        ),
    })
    .prefault({})
    .describe('milter protocol limits and timeouts'),
  scanner: z
    .strictObject({
      urls: z
        .array(z.string().min(1))
        .default([])
        .describe(
          'scanner URLs (spamd://, spamd+tls://, rspamd://, rspamd+https://, builtin, builtin:///dir, builtin+redis://); several make a pool; none: the built-in engine',
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
            .describe(
              "SPAMC verb used to scan; PROCESS/HEADERS apply SpamAssassin's own changes instead of our header profile and subject tag",
            ),
          user: z.string().min(1).optional().describe('fixed spamd User: for per-user preferences'),
          compress: z
            .boolean()
            .default(false)
            .describe('send messages deflated (Compress: zlib); not over TLS'),
          preserveHeaders: z
            .boolean()
            .default(false)
            .describe(
              "PROCESS/HEADERS: apply only SpamAssassin's X-Spam-* headers, not its Subject/From/To rewrites",
            ),
          preserveBody: z
            .boolean()
            .default(false)
            .describe(
              "PROCESS: never replace the body with SpamAssassin's report_safe version (nor its MIME-Version/Content-*)",
            ),
        })
        .prefault({}),
      builtin: z
        .strictObject({
          dataDir: z
            .string()
            .min(1)
            .nullable()
            .default(null)
            .describe(
              'token store directory of plain `builtin` (SQLite); null: /var/lib/spamward as root, else ~/.local/share/spamward',
            ),
          required: z
            .number()
            .positive()
            .default(5)
            .describe('score at which the built-in engine calls a message spam'),
          minLearned: z
            .number()
            .int()
            .nonnegative()
            .default(200)
            .describe('spam and ham each to learn before the Bayes classifier votes'),
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
          mtaTag: z
            .string()
            .min(1)
            .optional()
            .describe('MTA-Tag sent with every scan (for rspamd settings rules), e.g. inbound'),
        })
        .prefault({}),
    })
    .prefault({})
    .describe('the spam scanner(s)'),
  ...POLICY_SECTIONS,
});

/** The validated, defaulted configuration. */
export type Config = z.infer<typeof ConfigSchema>;
/** A score threshold as configured. */
export type ThresholdValue = z.infer<typeof Threshold>;
