/**
 * Option negotiation (SMFIC_OPTNEG): intersect what the MTA offers with what the filter wants.
 * Pure; the session stores the result and obeys it for the rest of the connection.
 */
import {
  Action,
  ALL_ACTIONS,
  ALL_PROTOCOL,
  MILTER_VERSION,
  MIN_MILTER_VERSION,
  Proto,
  V1_ACTIONS,
  V1_PROTOCOL,
} from './constants.ts';
import { NegotiationError } from './errors.ts';
import type { MacroRequests } from './responses.ts';

/** What the filter would like from the MTA; every bit is requested only if the MTA offers it. */
export interface NegotiationWishes {
  /** SMFIF_* actions the filter may use at end-of-message. */
  readonly actions: number;
  /** SMFIP_NO* bits for steps the filter does not need. */
  readonly skipSteps: number;
  /** SMFIP_NR_* bits for steps the filter never answers. */
  readonly noReply: number;
  /** Ask for header values with their leading whitespace intact (SMFIP_HDR_LEADSPC). */
  readonly leadingSpace: boolean;
  /** Macros per SMFIM_* stage; sent only when the MTA offers SMFIF_SETSYMLIST. */
  readonly macros: MacroRequests;
}

/** The outcome of negotiation: what both sides will do on this connection. */
export interface Negotiated {
  readonly version: number;
  /** Actions we may use (a subset of the offer). */
  readonly actions: number;
  /** Protocol bits we requested (a subset of the offer). */
  readonly protocol: number;
  /** Whether the MTA understands SMFIR_SKIP. */
  readonly canSkip: boolean;
  /** Whether header values arrive, and must be sent, with their leading space. */
  readonly leadingSpace: boolean;
  /** Macro lists we asked for (empty when SETSYMLIST was not offered). */
  readonly macros: MacroRequests;
}

/** The MTA's OPTNEG fields. */
export interface Offer {
  readonly version: number;
  readonly actions: number;
  readonly protocol: number;
}

// The MDS_* packet-size bits and other internal bits: never echoed (SMFI_INTERNAL).
const PROTOCOL_MASK = ALL_PROTOCOL;

/** Computes our OPTNEG answer; throws NegotiationError for versions below 2. */
export function negotiate(offer: Offer, wishes: NegotiationWishes): Negotiated {
  if (offer.version < MIN_MILTER_VERSION) {
    throw new NegotiationError(
      `MTA speaks milter protocol ${offer.version}; at least ${MIN_MILTER_VERSION} is needed`,
    );
  }
  const version = Math.min(offer.version, MILTER_VERSION);
  // 0 means "the v1 set" for both fields (libmilter does the same).
  const offeredActions = (offer.actions === 0 ? V1_ACTIONS : offer.actions) & ALL_ACTIONS;
  const offeredProtocol = (offer.protocol === 0 ? V1_PROTOCOL : offer.protocol) & PROTOCOL_MASK;

  const wantsMacros = Object.values(wishes.macros).some(
    (names) => names !== undefined && names !== '',
  );
  const symlist = wantsMacros && version >= 6 && (offeredActions & Action.SetSymList) !== 0;
  const actions = (wishes.actions | (symlist ? Action.SetSymList : 0)) & offeredActions;

  // SMFIP_SKIP in our answer says we may send SMFIR_SKIP (we do, past the body cap).
  const wanted =
    wishes.skipSteps | wishes.noReply | (wishes.leadingSpace ? Proto.HdrLeadSpc : 0) | Proto.Skip;
  const protocol = wanted & offeredProtocol;

  return {
    version,
    actions,
    protocol,
    canSkip: (protocol & Proto.Skip) !== 0 && version >= 6,
    leadingSpace: (protocol & Proto.HdrLeadSpc) !== 0,
    macros: symlist ? wishes.macros : {},
  };
}

/** True when `flag` was agreed, e.g. `has(n.protocol, Proto.NrHdr)`. */
export function has(bits: number, flag: number): boolean {
  return (bits & flag) !== 0;
}
