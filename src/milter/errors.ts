/**
 * Milter protocol errors. Each failure has its own class with a stable `code`, so the socket
 * adapter can log it and close that one connection without parsing messages.
 */

/** Base class: the peer broke the milter protocol; the connection cannot continue. */
export class MilterProtocolError extends Error {
  /** Stable machine-readable code, e.g. `MILTER_FRAME_TOO_LARGE`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MilterProtocolError';
    this.code = code;
  }
}

/** A packet declared length 0 (there must be at least the command byte). */
export class EmptyFrameError extends MilterProtocolError {
  constructor() {
    super('MILTER_FRAME_EMPTY', 'milter packet with length 0');
    this.name = 'EmptyFrameError';
  }
}

/** A packet declared a length above the configured cap; refused before allocating. */
export class FrameTooLargeError extends MilterProtocolError {
  /** The length the peer declared. */
  readonly declared: number;
  /** The cap in force. */
  readonly limit: number;

  constructor(declared: number, limit: number) {
    super('MILTER_FRAME_TOO_LARGE', `milter packet length ${declared} exceeds the limit ${limit}`);
    this.name = 'FrameTooLargeError';
    this.declared = declared;
    this.limit = limit;
  }
}

/** The stream ended in the middle of a packet. */
export class TruncatedFrameError extends MilterProtocolError {
  constructor(pendingBytes: number) {
    super(
      'MILTER_FRAME_TRUNCATED',
      `stream ended inside a milter packet (${pendingBytes} bytes pending)`,
    );
    this.name = 'TruncatedFrameError';
  }
}

/** A packet's payload does not have the shape its command requires. */
export class MalformedPacketError extends MilterProtocolError {
  /** The command or reply byte, as a one-character string. */
  readonly command: string;

  constructor(command: number, detail: string) {
    const letter = String.fromCharCode(command);
    super('MILTER_MALFORMED_PACKET', `malformed '${letter}' packet: ${detail}`);
    this.name = 'MalformedPacketError';
    this.command = letter;
  }
}

/** A packet code we do not know; the stream is probably out of step, so we close. */
export class UnknownCommandError extends MilterProtocolError {
  /** The code byte received. */
  readonly byte: number;

  constructor(byte: number) {
    super(
      'MILTER_UNKNOWN_COMMAND',
      `unknown milter command byte 0x${byte.toString(16).padStart(2, '0')}`,
    );
    this.name = 'UnknownCommandError';
    this.byte = byte;
  }
}

/** The MTA offered a protocol version or capabilities we cannot work with. */
export class NegotiationError extends MilterProtocolError {
  constructor(detail: string) {
    super('MILTER_NEGOTIATION', `option negotiation failed: ${detail}`);
    this.name = 'NegotiationError';
  }
}

/** The MTA sent a command we cannot take in the current state (before OPTNEG, or while a message is being filtered). */
export class UnexpectedCommandError extends MilterProtocolError {
  constructor(detail: string) {
    super('MILTER_UNEXPECTED_COMMAND', detail);
    this.name = 'UnexpectedCommandError';
  }
}
