/**
 * The one interface between the milter engine and everything that judges mail: one async call
 * per message, at end-of-message.
 */
import type { Message } from '../message/message.ts';
import type { Decision } from './decision.ts';

/** Judges messages. `signal` aborts when the MTA goes away, the deadline passes or the daemon stops. */
export interface MessageFilter {
  filter(message: Message, signal: AbortSignal): Promise<Decision>;
}
