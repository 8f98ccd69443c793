/**
 * Milter wire constants, named after libmilter's `mfdef.h` so the spec greps straight to code.
 * Codes are the ASCII bytes that open each packet.
 */

/** Command codes the MTA sends (SMFIC_*). */
export const Cmd = {
  Abort: 0x41, // 'A' SMFIC_ABORT
  Body: 0x42, // 'B' SMFIC_BODY
  Connect: 0x43, // 'C' SMFIC_CONNECT
  Macro: 0x44, // 'D' SMFIC_MACRO
  BodyEob: 0x45, // 'E' SMFIC_BODYEOB
  Helo: 0x48, // 'H' SMFIC_HELO
  QuitNc: 0x4b, // 'K' SMFIC_QUIT_NC [v6]
  Header: 0x4c, // 'L' SMFIC_HEADER
  Mail: 0x4d, // 'M' SMFIC_MAIL
  Eoh: 0x4e, // 'N' SMFIC_EOH
  OptNeg: 0x4f, // 'O' SMFIC_OPTNEG
  Quit: 0x51, // 'Q' SMFIC_QUIT
  Rcpt: 0x52, // 'R' SMFIC_RCPT
  Data: 0x54, // 'T' SMFIC_DATA [v4]
  Unknown: 0x55, // 'U' SMFIC_UNKNOWN [v3]
} as const;

/** Reply codes the milter sends (SMFIR_*). */
export const Reply = {
  AddRcpt: 0x2b, // '+' SMFIR_ADDRCPT
  DelRcpt: 0x2d, // '-' SMFIR_DELRCPT
  AddRcptPar: 0x32, // '2' SMFIR_ADDRCPT_PAR [v6]
  Shutdown: 0x34, // '4' SMFIR_SHUTDOWN
  Accept: 0x61, // 'a' SMFIR_ACCEPT
  ReplBody: 0x62, // 'b' SMFIR_REPLBODY
  Continue: 0x63, // 'c' SMFIR_CONTINUE
  Discard: 0x64, // 'd' SMFIR_DISCARD
  ChgFrom: 0x65, // 'e' SMFIR_CHGFROM [v6]
  ConnFail: 0x66, // 'f' SMFIR_CONN_FAIL
  AddHeader: 0x68, // 'h' SMFIR_ADDHEADER
  InsHeader: 0x69, // 'i' SMFIR_INSHEADER
  SetSymList: 0x6c, // 'l' SMFIR_SETSYMLIST
  ChgHeader: 0x6d, // 'm' SMFIR_CHGHEADER
  Progress: 0x70, // 'p' SMFIR_PROGRESS
  Quarantine: 0x71, // 'q' SMFIR_QUARANTINE
  Reject: 0x72, // 'r' SMFIR_REJECT
  Skip: 0x73, // 's' SMFIR_SKIP [v6]
  Tempfail: 0x74, // 't' SMFIR_TEMPFAIL
  ReplyCode: 0x79, // 'y' SMFIR_REPLYCODE
  OptNeg: 0x4f, // 'O' the answer to SMFIC_OPTNEG
} as const;

/** Action flags: what the milter may do at end-of-message (SMFIF_*). */
export const Action = {
  AddHdrs: 0x001, // SMFIF_ADDHDRS: 'h' and 'i'
  ChgBody: 0x002, // SMFIF_CHGBODY: 'b'
  AddRcpt: 0x004, // SMFIF_ADDRCPT: '+'
  DelRcpt: 0x008, // SMFIF_DELRCPT: '-'
  ChgHdrs: 0x010, // SMFIF_CHGHDRS: 'm'
  Quarantine: 0x020, // SMFIF_QUARANTINE: 'q'
  ChgFrom: 0x040, // SMFIF_CHGFROM: 'e' [v6]
  AddRcptPar: 0x080, // SMFIF_ADDRCPT_PAR: '2' [v6]
  SetSymList: 0x100, // SMFIF_SETSYMLIST: macro lists in the OPTNEG reply [v6]
} as const;

/** All action bits defined by protocol v6. */
export const ALL_ACTIONS = 0x1ff;
/** What an MTA offering `actions = 0` means: the v1 set (SMFI_V1_ACTS). */
export const V1_ACTIONS = 0x0f;

/** Protocol flags: steps the MTA may leave out, and replies the milter may leave out (SMFIP_*). */
export const Proto = {
  NoConnect: 0x000001, // SMFIP_NOCONNECT
  NoHelo: 0x000002, // SMFIP_NOHELO
  NoMail: 0x000004, // SMFIP_NOMAIL
  NoRcpt: 0x000008, // SMFIP_NORCPT
  NoBody: 0x000010, // SMFIP_NOBODY
  NoHdrs: 0x000020, // SMFIP_NOHDRS
  NoEoh: 0x000040, // SMFIP_NOEOH
  NrHdr: 0x000080, // SMFIP_NR_HDR (alias SMFIP_NOHREPL)
  NoUnknown: 0x000100, // SMFIP_NOUNKNOWN [v3]
  NoData: 0x000200, // SMFIP_NODATA [v4]
  Skip: 0x000400, // SMFIP_SKIP: the MTA understands 's' [v6]
  RcptRej: 0x000800, // SMFIP_RCPT_REJ: also send rejected recipients [v6]
  NrConn: 0x001000, // SMFIP_NR_CONN
  NrHelo: 0x002000, // SMFIP_NR_HELO
  NrMail: 0x004000, // SMFIP_NR_MAIL
  NrRcpt: 0x008000, // SMFIP_NR_RCPT
  NrData: 0x010000, // SMFIP_NR_DATA
  NrUnkn: 0x020000, // SMFIP_NR_UNKN
  NrEoh: 0x040000, // SMFIP_NR_EOH
  NrBody: 0x080000, // SMFIP_NR_BODY
  HdrLeadSpc: 0x100000, // SMFIP_HDR_LEADSPC: header values keep their leading space
} as const;

/** All protocol bits defined by v6 (SMFI_CURR_PROT). */
export const ALL_PROTOCOL = 0x1fffff;
/** What an MTA offering `protocol = 0` means: the v1 set (SMFI_V1_PROT). */
export const V1_PROTOCOL = 0x3f;

/** Macro stages of the set-symlist extension (SMFIM_*); note EOM (5) comes before EOH (6). */
export const MacroStage = {
  Connect: 0, // SMFIM_CONNECT
  Helo: 1, // SMFIM_HELO
  EnvFrom: 2, // SMFIM_ENVFROM
  EnvRcpt: 3, // SMFIM_ENVRCPT
  Data: 4, // SMFIM_DATA
  Eom: 5, // SMFIM_EOM
  Eoh: 6, // SMFIM_EOH
} as const;

/** The newest protocol version we speak; there is no version 5. */
export const MILTER_VERSION = 6;
/** The oldest MTA version we accept (libmilter refuses below 2 too). */
export const MIN_MILTER_VERSION = 2;

/** Largest payload a real MTA sends in one BODY packet and the most we send in one REPLBODY. */
export const MAX_CHUNK = 65535;
