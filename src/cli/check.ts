/**
 * `spamward check [options] [FILE|-]`: pipe / LDA mode. Filters one message with the same policy
 * as the milter and writes it with Spamward's headers (and subject/body changes) to stdout, like
 * `spamc` or `rspamc --mime`; `--exitcode` tells spam by exit code (spamc -E), `--reject-text`
 * prints only the SMTP reply (for maildrop's backticks in Courier's smtpfilter), `--exec CMD…`
 * hands the message to a delivery agent. `--verdict` prints the scanner's verdict instead.
 * The outcome table is in check-outcome.ts, the envelope defaults in check-args.ts.
 */

import { assertNever } from '../shared/assert-never.ts';
import { parseCheckArgs } from './check-args.ts';
import { NoInputError } from './check-errors.ts';
import { ExecFailedError, PipeOutputError, pipeCommand } from './check-pipe.ts';
import { verdictCommand } from './check-verdict.ts';
import { print } from './output.ts';

export { NoInputError } from './check-errors.ts';
export { describeVerdict, verdictJson } from './check-verdict.ts';

const HELP = `Usage: spamward check [--config FILE] [--scanner URL…] [envelope] [mode] [FILE|-]
       spamward check [options] [FILE|-] --exec CMD [ARG…]
       spamward check --verdict [--json] [--scanner URL…] [FILE|-]

Filters one message (a file, or standard input) with the same policy as the milter (trust,
access map, scanner or built-in engine, actions, failure policy) and writes it with Spamward's
headers and subject/body changes, like spamc or rspamc --mime. The body is never truncated
(only the scan is, as scan.maxScanBytes says); line ends and 8-bit bytes are kept.
  --config FILE         YAML configuration (as for run; SPAMWARD_* variables apply too)
  --scanner URL         scanner URL, repeat for a pool (overrides scanner.urls)
  -E, --exitcode        exit 1 for spam, 0 for ham (spamc -E); the message is still written
  --reject-text         write only the SMTP reply instead of the message when it is spam or
                        refused ("550 5.7.1 Message rejected as spam …"), nothing for ham;
                        exit as --exitcode (for backticks, e.g. Courier's smtpfilter)
  --exec CMD [ARG…]     everything after --exec is a delivery agent (e.g. dovecot-lda -d
                        user) run without a shell; it gets the message, its exit code is ours
  --max-input-bytes N   read at most N bytes (default 64 MiB); a larger message is passed on
                        unscanned and unchanged
Envelope (defaults: --from $SENDER, then Return-Path:; --rcpt $RECIPIENT, then Delivered-To:,
X-Original-To:, $LOGNAME, $USER; --ip $CLIENT_ADDRESS or $TCPREMOTEIP; --hostname
$CLIENT_HOSTNAME or $TCPREMOTEHOST; --helo $CLIENT_HELO; --auth $SASL_USERNAME):
  --from ADDR --rcpt ADDR… --ip IP --helo NAME --hostname NAME --auth USER --queue-id ID
  --no-env              ignore those environment variables (headers and flags only)
Verdict only:
  --verdict             print the scanner's verdict (score, action, symbols) instead
  --json                the normalised verdict as JSON
  --verb VERB --password PW --user NAME --timeout-ms N   (with --scanner URL)

What happens (spam = the policy's action is tag, quarantine, reject or discard):
  decision                       written / to the LDA        exit  -E   --reject-text  --exec
  ham, not scanned, dry run      message with headers           0   0   0, nothing     LDA's
  scanner down, failure: accept  stamped X-Spam-Checker         0   0   0, nothing     LDA's
  tag, quarantine                tagged (not held)              0   1   1, reply       LDA's
  reject                         tagged as tag would            0   1   1, reply       LDA's
  discard                        tagged                         0   1   1, reply       0, LDA not run
  refused by access map          unchanged                      0   1   1, reply       LDA's
  scanner down, failure: tempfail  nothing                     75  75  75, 451 reply   75, not run
  scanner down, failure: reject    nothing                     69  69  69, 554 reply   69, not run
A pipe cannot refuse mail the MTA has accepted, and never bounces spam; recipient and sender
changes (routing) are not applied. A discard still writes the message unless --exec is used:
maildrop and procmail would deliver an empty output as an empty message.
Exit: as above; 64 usage, 66 no input, 78 configuration error, 75 the message could not be
written or the --exec command could not be started or was killed, or an internal error (the MTA
retries; mail is never lost to a bug).`;

/** Runs `check`; resolves with the exit code. */
export async function checkCommand(args: string[]): Promise<number> {
  const parsed = parseCheckArgs(args);
  switch (parsed.kind) {
    case 'help':
      print(`${HELP}\n`);
      return 0;
    case 'verdict':
      return verdictCommand(parsed);
    case 'pipe':
      try {
        return await pipeCommand(parsed);
      } catch (error) {
        if (!(error instanceof PipeOutputError || error instanceof ExecFailedError || isBug(error)))
          throw error;
        process.stderr.write(`spamward: ${(error as Error).message}\n`);
        return 75;
      }
    default:
      return assertNever(parsed);
  }
}

/** An error that is not the caller's (usage, configuration, input): a bug or a system fault. */
function isBug(error: unknown): boolean {
  if (error instanceof NoInputError) return false;
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  return !(code === 'CLI_USAGE' || code === 'CONFIG_INVALID' || code === 'BAD_SCANNER_URL');
}
