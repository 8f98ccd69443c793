-- (d) MACRO packets before every stage, as Postfix sends them (one before each HEADER and
-- BODY packet, one for DATA even when the daemon switched DATA off, and some with only an
-- empty value), disturb nothing: a plain message still gets its X-Spamward header and a
-- GTUBE message is still rejected.
-- Usage: miltertest -s macros.lua -D port=NNNN -D version=X.Y.Z [-D reply_text='...']
local sw = dofile((debug.getinfo(1, 'S').source:match('^@?(.*/)') or './') .. 'lib/spamward.lua')

-- miltertest only names the CONNECT/HELO/MAIL/RCPT command bytes; the others are letters.
local DATA, HEADER, EOH, BODY, EOM =
  string.byte('T'), string.byte('L'), string.byte('N'), string.byte('B'), string.byte('E')

-- Sends one MACRO packet for `stage`; `...` are name, value pairs.
local function macro(conn, stage, ...)
  local pairs_count = select('#', ...) // 2
  local what = string.format("MACRO '%s' with %d pair(s)", string.char(stage), pairs_count)
  sw.sent(what, mt.macro(conn, stage, ...))
end

-- Sends CONNECT and HELO, each preceded by its macros (HELO's: TLS macros, all empty).
local function greet_with_macros(conn)
  macro(conn, SMFIC_CONNECT, 'j', 'mx.example.net', '{daemon_name}', 'mx.example.net',
    '{daemon_addr}', '127.0.0.1', 'v', 'Postfix 3.7.11', '_', 'client.example.org [192.0.2.7]')
  sw.conninfo(conn)
  macro(conn, SMFIC_HELO, '{tls_version}', '', '{cipher}', '', '{cipher_bits}', '')
  sw.helo(conn)
end

-- Sends a message up to its last BODY packet with Postfix-style macros before each event.
local function message_with_macros(conn, queue_id, subject, body)
  macro(conn, SMFIC_MAIL, '{mail_addr}', 'alice@example.org', '{mail_host}', 'example.org',
    '{mail_mailer}', 'smtp')
  sw.mail(conn)
  macro(conn, SMFIC_RCPT, 'i', queue_id, '{rcpt_addr}', 'bob@example.net', '{rcpt_host}',
    'example.net', '{rcpt_mailer}', 'local')
  sw.rcpt(conn)
  macro(conn, DATA, 'i', queue_id)
  sw.data(conn)
  for _, field in ipairs({ { 'From', '<alice@example.org>' }, { 'Subject', subject } }) do
    macro(conn, HEADER, 'i', queue_id)
    sw.header(conn, field[1], field[2])
  end
  macro(conn, EOH, 'i', queue_id)
  sw.eoh(conn)
  for _, chunk in ipairs(body) do
    macro(conn, BODY, 'i', queue_id)
    sw.body(conn, { chunk })
  end
  macro(conn, EOM, 'i', queue_id, '{msg_id}', '<' .. queue_id .. '@example.org>')
end

sw.run('macros', function()
  sw.define('version')
  local conn = sw.connect()
  sw.sent('OPTNEG', mt.negotiate(conn, nil, nil, nil))
  greet_with_macros(conn)

  message_with_macros(conn, '4Q1AbC2dEf', 'plain with macros', { 'Hello\r\n', 'Bob\r\n' })
  sw.eom(conn, SMFIR_CONTINUE, 'plain with macros')
  sw.expect_spamward_header(conn, 'plain with macros')
  sw.sent('ABORT', mt.abort(conn))

  message_with_macros(conn, '4Q1AbC3gHi', 'GTUBE with macros', { sw.GTUBE .. '\r\n' })
  sw.expect_gtube_reject(conn, 'GTUBE with macros')
  sw.sent('ABORT', mt.abort(conn))

  -- A stray MAIL-stage macro whose only value is empty, then a message without macros.
  macro(conn, SMFIC_MAIL, '{auth_authen}', '')
  sw.deliver_plain(conn, 'after an empty macro')
  sw.sent('QUIT', mt.disconnect(conn))
end)
