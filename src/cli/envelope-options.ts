/** The flags `check` and `explain` share: configuration, scanners and the SMTP envelope. */
export const ENVELOPE_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string', short: 'c' },
  scanner: { type: 'string', multiple: true },
  from: { type: 'string' },
  rcpt: { type: 'string', multiple: true },
  ip: { type: 'string' },
  helo: { type: 'string' },
  hostname: { type: 'string' },
  auth: { type: 'string' },
  'queue-id': { type: 'string' },
} as const;
