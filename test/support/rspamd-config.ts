/**
 * The configuration a private test rspamd runs with: the stock /etc/rspamd plus these files in a
 * LOCAL_CONFDIR of our own (local.d merges into a stock section, override.d replaces it).
 */

/** What the generated configuration depends on. */
export interface RspamdConfigInput {
  readonly normalPort: number;
  readonly controllerPort: number;
  /** Read-only controller password (never q1/q2: rspamd refuses those). */
  readonly readPassword: string;
  /** The enable password, needed to learn. */
  readonly enablePassword: string;
  readonly dnsPort: number;
  /** Hyperscan cache kept between runs (cold start ≈ 18 s, warm ≈ 1 s). */
  readonly cacheDir: string;
  /** Redis unix socket; undefined = no Redis (and so no working Bayes classifier). */
  readonly redisSocket?: string;
  /**
   * Port for rspamd's own milter: the proxy worker in milter mode with self-scan (it runs the
   * rules in its own process, one worker). Undefined (the default) = no proxy worker.
   */
  readonly proxyMilterPort?: number;
}

/** The settings id the integration tests select with `Settings-ID`; it adds SPAMWARD_SETTINGS. */
export const TEST_SETTINGS_ID = 'spamward_test';

/** Files to write, keyed by path relative to LOCAL_CONFDIR. */
export function rspamdConfigFiles(input: RspamdConfigInput): Record<string, string> {
  const files: Record<string, string> = {
    // One normal worker is plenty for tests and starts faster.
    'override.d/worker-normal.inc': lines(
      `bind_socket = "127.0.0.1:${input.normalPort}";`,
      'count = 1;',
    ),
    // secure_ip = [] so that loopback clients need the Password header like remote ones.
    'override.d/worker-controller.inc': lines(
      `bind_socket = "127.0.0.1:${input.controllerPort}";`,
      'count = 1;',
      `password = "${input.readPassword}";`,
      `enable_password = "${input.enablePassword}";`,
      'secure_ip = [];',
      `static_dir = "\${WWWDIR}";`,
    ),
    // The milter proxy is not needed unless asked for; a stock one would bind localhost:11332.
    'override.d/worker-proxy.inc':
      input.proxyMilterPort === undefined
        ? lines('enabled = false;', 'bind_socket = "127.0.0.1:0";')
        : proxyMilterWorker(input.proxyMilterPort),
    // enable_test_patterns: the YJS/ZJS/AJS GTUBE variants (add header / rewrite subject / no
    // action). All DNS goes to the NXDOMAIN stub: instant answers, no 1 s timeouts, same scores
    // on every machine.
    'local.d/options.inc': lines(
      'enable_test_patterns = true;',
      `hs_cache_dir = "${input.cacheDir}/";`,
      `dns { nameserver = ["127.0.0.1:${input.dnsPort}"]; timeout = 1s; retransmits = 1; }`,
    ),
    'local.d/logging.inc': lines('level = "notice";'),
    // Would query fuzzy*.rspamd.com.
    'local.d/fuzzy_check.conf': lines('enabled = false;'),
    // With Redis present, repeated envelopes would be greylisted (soft reject) within 5 minutes.
    'local.d/greylist.conf': lines('enabled = false;'),
    // Learning is explicit only; one learn is enough for Bayes to be used.
    'local.d/classifier-bayes.conf': lines('autolearn = false;', 'min_learns = 1;'),
    // Fill the reply's milter block (add_headers/remove_headers) as a production setup would.
    'local.d/milter_headers.conf': lines(
      'use = ["x-spamd-bar", "x-spam-level", "x-spam-status", "x-rspamd-queue-id", "x-rspamd-action", "authentication-results"];',
      'extended_spam_headers = true;',
      'skip_local = false;',
      'skip_authenticated = false;',
    ),
    'local.d/settings.conf': lines(
      `${TEST_SETTINGS_ID} {`,
      `  id = "${TEST_SETTINGS_ID}";`,
      '  apply { symbols { SPAMWARD_SETTINGS = 0.01; } }',
      '}',
    ),
  };
  if (input.redisSocket !== undefined) {
    files['local.d/redis.conf'] = lines(`servers = "${input.redisSocket}";`);
  }
  return files;
}

/**
 * rspamd_proxy as a milter that scans by itself (rspamd's "self-scan mode"): the stock
 * worker-proxy.inc settings (spam_header X-Spam, reject_message, no discard or quarantine on
 * reject) with our socket, one process and no upstream but itself.
 */
function proxyMilterWorker(port: number): string {
  return lines(
    `bind_socket = "127.0.0.1:${port}";`,
    'milter = yes;',
    'timeout = 120s;',
    'count = 1;',
    'upstream "local" {',
    '  default = yes;',
    '  self_scan = yes;',
    '}',
  );
}

/** redis-server in the foreground on a unix socket only (rspamd runs as another user: 0777). */
export function redisArgs(socket: string): string[] {
  const dir = socket.slice(0, socket.lastIndexOf('/'));
  return [
    ...'--port 0 --bind 127.0.0.1 --unixsocketperm 777 --appendonly no --daemonize no'.split(' '),
    ...['--unixsocket', socket, '--dir', dir, '--save', ''],
  ];
}

/** dnsmasq as a stub that answers NXDOMAIN for every name (`--address=/#/`), no system config. */
export function dnsmasqArgs(port: number, pidFile: string, dropToNobody: boolean): string[] {
  return [
    ...'--keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll'.split(' '),
    ...'--listen-address=127.0.0.1 --bind-interfaces --address=/#/ --cache-size=0'.split(' '),
    `--port=${port}`,
    '--log-facility=-',
    `--pid-file=${pidFile}`,
    ...(dropToNobody ? ['--user=nobody'] : []),
  ];
}

/** rspamd in the foreground with the stock config, our LOCAL_CONFDIR and dirs under `dir`. */
export function rspamdArgs(dir: string, user: string | undefined): string[] {
  return [
    ...['-f', '-c', '/etc/rspamd/rspamd.conf', '-p', `${dir}/run/rspamd.pid`],
    ...(user === undefined ? [] : ['-u', user, '-g', user]),
    `--var=LOCAL_CONFDIR=${dir}/conf`,
    `--var=RUNDIR=${dir}/run`,
    `--var=DBDIR=${dir}/db`,
    `--var=LOGDIR=${dir}/log`,
  ];
}

function lines(...text: string[]): string {
  return `${text.join('\n')}\n`;
}
