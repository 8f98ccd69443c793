/*
 * null-milter: the protocol ceiling for the comparison benchmark (bench/peers.ts).
 *
 * A libmilter filter that does no work but costs what the milter protocol costs: it negotiates
 * the same steps and no-reply flags as Spamward with its default configuration (no DATA; no reply
 * to anything before end-of-message; leading header spaces kept), receives every stage of every
 * message (connect, HELO, MAIL, RCPT, each header, end of headers, every body chunk), and at
 * end-of-message answers CONTINUE (accept the message unchanged; it never asks for any
 * modification action). Returning ACCEPT at connect would measure only the handshake, not what a
 * content filter must read, so it would not be a fair ceiling for Spamward.
 *
 * Build: cc -O2 -o null-milter bench/null-milter.c -lmilter -lpthread
 * Run:   null-milter inet:PORT@127.0.0.1
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr) {
  (void)ctx;
  (void)host;
  (void)addr;
  return SMFIS_NOREPLY;
}

static sfsistat nm_helo(SMFICTX *ctx, char *helo) {
  (void)ctx;
  (void)helo;
  return SMFIS_NOREPLY;
}

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv) {
  (void)ctx;
  (void)argv;
  return SMFIS_NOREPLY;
}

static sfsistat nm_envrcpt(SMFICTX *ctx, char **argv) {
  (void)ctx;
  (void)argv;
  return SMFIS_NOREPLY;
}

/* Every step but end-of-message is negotiated without a reply (SMFIP_NR_*), as Spamward does
   with its default configuration (no access map, no recipient cap). */
static sfsistat nm_header(SMFICTX *ctx, char *name, char *value) {
  (void)ctx;
  (void)name;
  (void)value;
  return SMFIS_NOREPLY;
}

static sfsistat nm_eoh(SMFICTX *ctx) {
  (void)ctx;
  return SMFIS_NOREPLY;
}

static sfsistat nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len) {
  (void)ctx;
  (void)chunk;
  (void)len;
  return SMFIS_NOREPLY;
}

static sfsistat nm_eom(SMFICTX *ctx) {
  (void)ctx;
  return SMFIS_CONTINUE;
}

static sfsistat nm_abort(SMFICTX *ctx) {
  (void)ctx;
  return SMFIS_CONTINUE;
}

static sfsistat nm_close(SMFICTX *ctx) {
  (void)ctx;
  return SMFIS_CONTINUE;
}

/* Ask for what Spamward asks for by default (src/daemon/daemon.ts WISHES, NR_RCPT without a
   recipient gate), minus modification actions. */
static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3) {
  (void)ctx;
  (void)f0;
  (void)f2;
  (void)f3;
  unsigned long want = SMFIP_NODATA | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
                       SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY |
                       SMFIP_HDR_LEADSPC | SMFIP_SKIP;
  *pf0 = 0;
  *pf1 = want & f1;
  *pf2 = 0;
  *pf3 = 0;
  return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    "spamward-bench-null", /* filter name */
    SMFI_VERSION,          /* version code */
    0,                     /* flags: no modification actions */
    nm_connect,            /* connection info filter */
    nm_helo,               /* SMTP HELO command filter */
    nm_envfrom,            /* envelope sender filter */
    nm_envrcpt,            /* envelope recipient filter */
    nm_header,             /* header filter */
    nm_eoh,                /* end of header */
    nm_body,               /* body block filter */
    nm_eom,                /* end of message */
    nm_abort,              /* message aborted */
    nm_close,              /* connection cleanup */
    NULL,                  /* unknown SMTP commands */
    NULL,                  /* DATA command */
    nm_negotiate,          /* option negotiation */
};

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s inet:PORT@127.0.0.1\n", argv[0]);
    return 2;
  }
  if (smfi_setconn(argv[1]) == MI_FAILURE) {
    fprintf(stderr, "null-milter: smfi_setconn %s failed\n", argv[1]);
    return 1;
  }
  if (smfi_register(desc) == MI_FAILURE) {
    fprintf(stderr, "null-milter: smfi_register failed\n");
    return 1;
  }
  /* A listen backlog well above the highest concurrency the bench uses. */
  smfi_setbacklog(256);
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}
