/**
 * The readable `explain` report: envelope, rules, scan, decision, changes, SMTP reply and, when
 * asked, the resulting message. Pure: an Explanation in, text out.
 */
import type { ScanMode } from '../filter/scan-filter.ts';
import type { Envelope } from '../scanners/scanner.ts';
import { assertNever } from '../shared/assert-never.ts';
import type { Explanation, ScanReport } from './explain-model.ts';
import type { AccessVerdictReport, RulesReport } from './explain-rules.ts';

const LABEL = 14;

/** `  label       value`, continuation lines indented under the value. */
function row(label: string, value: string | readonly string[]): string[] {
  const values = typeof value === 'string' ? [value] : value;
  const pad = ' '.repeat(2 + LABEL);
  return values.map((v, i) => (i === 0 ? `  ${label.padEnd(LABEL)}${v}` : `${pad}${v}`));
}

/** The scan mode in words, e.g. `tag only (bypass phrase present)`. */
export function describeMode(mode: ScanMode): string {
  switch (mode.mode) {
    case 'scan':
      return 'scan';
    case 'tag':
      return `scan, tag only: never refused (${mode.reason})`;
    case 'skip':
      return `not scanned (${mode.reason})`;
    case 'refuse':
      return `refused without a scan: ${mode.kind.toUpperCase()} (${mode.reason})`;
    default:
      return assertNever(mode);
  }
}

function envelopeSection(e: Explanation): string[] {
  const { client } = e.envelope;
  const family = client.family === '4' ? 'IPv4' : client.family === '6' ? 'IPv6' : 'unknown';
  const rcpt = e.rcpt.map((r) =>
    r.refused === null ? r.recipient : `${r.recipient}: refused at RCPT time: ${r.refused}`,
  );
  return [
    'Envelope (as the milter sees it)',
    ...row('queue id', e.envelope.queueId),
    ...row(
      'client',
      `${client.address || 'unknown'} (${family}), name ${client.hostname}, HELO ${client.helo ?? '(none)'}`,
    ),
    ...row('auth', e.envelope.authUser ?? 'not authenticated'),
    ...row('MAIL FROM', e.envelope.sender),
    ...row('RCPT TO', rcpt.length === 0 ? '(none)' : rcpt),
    ...row('message', `${e.envelope.headers} header fields, ${e.envelope.bodyBytes} body bytes`),
  ];
}

function accessLines(label: string, verdict: AccessVerdictReport): string[] {
  const result =
    verdict.action === 'none'
      ? 'no decision'
      : `${verdict.action.toUpperCase()}${verdict.text === undefined ? '' : ` "${verdict.text}"`} (${verdict.at})`;
  return [`${label}`, ...verdict.trace.map((t) => `  ${t.text}`), `  ⇒ ${result}`];
}

function rulesSection(rules: RulesReport | null, mode: ScanMode | null): string[] {
  if (rules === null) return ['Rules', '  none: no message reached end-of-data'];
  const { trust } = rules;
  const networks = trust.networks.join(', ') || 'none';
  const client = trust.trustedNetwork
    ? `${trust.client} in trust.networks (${networks}): trust.networksMode ${trust.networksMode}`
    : `${trust.client} not in trust.networks (${networks})`;
  const auth =
    trust.authUser === null
      ? 'not authenticated'
      : `authenticated as ${trust.authUser}: trust.authenticatedMode ${trust.authenticatedMode}`;
  const optOuts =
    trust.optOuts.length === 0
      ? `none of ${trust.recipients} recipient(s)`
      : trust.optOuts.map((o) => `${o.recipient} (${o.by})`);
  const access =
    rules.accessMap === null
      ? ['none (trust.accessMap)']
      : [
          `${rules.accessMap.file} (${rules.accessMap.entries} entries)`,
          ...accessLines('message (auth → connect → from):', rules.accessMap.message),
          ...rules.accessMap.recipients.flatMap((r) => accessLines(`to ${r.recipient}:`, r)),
        ];
  const bypass = !rules.bypass.configured
    ? 'no phrase configured'
    : rules.bypass.present
      ? 'phrase present: tag only'
      : 'phrase not present';
  return [
    'Rules',
    ...row('client', client),
    ...row('auth', auth),
    ...row('opt-outs', optOuts),
    ...row('access map', access),
    ...row('bypass', bypass),
    ...row('size', rules.size.outcome),
    ...row('scan mode', mode === null ? '(not asked)' : describeMode(mode)),
  ];
}

function told(envelope: Envelope): string {
  const parts = [
    `from ${envelope.sender === undefined ? '(none)' : `<${envelope.sender}>`}`,
    `to ${envelope.recipients.map((r) => `<${r}>`).join(', ') || '(none)'}`,
    ...(envelope.clientAddress === undefined ? [] : [`client ${envelope.clientAddress}`]),
    ...(envelope.helo === undefined ? [] : [`HELO ${envelope.helo}`]),
    ...(envelope.authUser === undefined ? [] : [`auth ${envelope.authUser}`]),
    ...(envelope.prefsUser === undefined ? [] : [`user ${envelope.prefsUser}`]),
  ];
  return parts.join(', ');
}

function scanSection(scan: ScanReport, scanners: readonly string[]): string[] {
  const head = ['Scan', ...(scanners.length === 0 ? [] : row('scanners', [...scanners]))];
  switch (scan.status) {
    case 'scanned': {
      const v = scan.verdict;
      const width = Math.max(0, ...v.symbols.map((s) => s.name.length));
      const symbols = v.symbols.map((s) =>
        `${String(s.score).padStart(8)}  ${s.name.padEnd(width)}  ${s.description ?? ''}`.trimEnd(),
      );
      return [
        ...head,
        ...row('answered by', scan.scanner),
        ...row('told', told(scan.envelope)),
        ...row('score', `${v.score} / ${v.required} (${v.isSpam ? 'spam' : 'ham'})`),
        ...row('recommends', v.action),
        ...row('symbols', symbols.length === 0 ? '(none)' : symbols),
        ...(v.subject === undefined ? [] : row('subject', v.subject)),
      ];
    }
    case 'failed':
      return [
        ...head,
        ...row('failed', `${scan.code}: ${scan.error}`),
        ...(scan.cause === null ? [] : row('cause', scan.cause)),
        ...row('class', scan.failureClass),
        ...row('policy', `failure.${scan.failureClass}: ${scan.action}`),
      ];
    case 'not-scanned':
    case 'not-reached':
      return [...head, ...row('no scan', scan.reason)];
    default:
      return assertNever(scan);
  }
}

function decisionSection(e: Explanation): string[] {
  const d = e.decision;
  if (d === null) return ['Decision', '  none: no message reached end-of-data'];
  const dry = d.dryRun
    ? row('dry run', 'yes: nothing is changed or refused; the action is what would have been done')
    : [];
  return [
    'Decision',
    ...row('action', d.reason === null ? d.action : `${d.action}: ${d.reason}`),
    ...row('verdict', d.verdict),
    ...row('ref', d.ref ?? '(none)'),
    ...dry,
  ];
}

function changesSection(e: Explanation): string[] {
  const lines = e.changes.length === 0 ? ['  (none)'] : e.changes.map((c) => `  ${c.line}`);
  const refused = e.notApplied.map((r) => `  not sent: ${r.what}: ${r.reason}`);
  const delivery =
    e.delivery === null
      ? []
      : [
          ...row('MAIL FROM', e.delivery.sender),
          ...row(
            'delivered to',
            e.delivery.recipients.length === 0 ? '(nobody)' : [...e.delivery.recipients],
          ),
        ];
  return ['Changes', ...lines, ...refused, ...delivery];
}

/** The whole report as text; `showMessage` appends the resulting message. */
export function explanationText(e: Explanation, showMessage: boolean): string {
  const sections = [
    envelopeSection(e),
    rulesSection(e.rules, e.scanMode),
    scanSection(e.scan, e.scanners),
    decisionSection(e),
    changesSection(e),
    ['SMTP reply', ...e.reply.lines.map((l) => `  ${l}`), `  (${e.reply.note})`],
  ];
  if (showMessage) {
    const text = e.resultingMessage?.text.replace(/\r\n/g, '\n');
    sections.push([
      'Resulting message',
      ...(text === undefined
        ? ['  (none: the message is not delivered)']
        : [text.replace(/\n$/, '')]),
    ]);
  }
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}
