/**
 * A Date header value for "now". Test messages scanned by a real spamd must not carry a fixed
 * date: as the day goes on, SpamAssassin's DATE_IN_PAST_* rules add points and ham turns spam.
 */
export function dateHeaderNow(): string {
  return new Date().toUTCString().replace(/GMT$/, '+0000');
}
