-- Shared helpers for Spamward's miltertest scripts. Loaded with dofile(); not a test itself.
--
-- miltertest exits with status 1 *silently* when a script raises an error, so every check
-- echoes what it tested, and M.run() echoes the failure with a traceback before exiting.
-- Each mt.* protocol call returns nil on success and an error string on I/O failure.

local M = {}

-- mt.echo() writes to C stdout, which is fully buffered when piped: make it line-buffered so
-- the diagnostics survive when the test runner has to kill a hung miltertest.
io.stdout:setvbuf('line')

-- The GTUBE test string.
M.GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

-- Seconds miltertest waits for each reply (its default is 10); loopback replies take ms.
M.READ_TIMEOUT = 5

local REPLY_NAMES = {
  [SMFIR_CONTINUE] = 'CONTINUE',
  [SMFIR_ACCEPT] = 'ACCEPT',
  [SMFIR_REJECT] = 'REJECT',
  [SMFIR_TEMPFAIL] = 'TEMPFAIL',
  [SMFIR_DISCARD] = 'DISCARD',
  [SMFIR_REPLYCODE] = 'REPLYCODE',
  [SMFIR_SKIP] = 'SKIP',
}

-- Names a reply byte for messages, e.g. "CONTINUE ('c')".
function M.reply_name(code)
  if code == nil or code == 0 then
    return 'no reply'
  end
  return string.format("%s ('%s')", REPLY_NAMES[code] or 'unexpected', string.char(code))
end

-- Fails the script with the message `what`.
function M.fail(what)
  error('FAIL ' .. what, 0)
end

-- Fails the script with `what` unless `cond` holds; echoes the passed check otherwise.
function M.check(cond, what)
  if not cond then
    M.fail(what)
  end
  mt.echo('ok   ' .. what)
end

-- Checks an mt.* call that gets no reply (OPTNEG, MACRO, ABORT, QUIT): it must return nil.
function M.sent(what, result)
  if result ~= nil then
    M.fail(string.format('%s: miltertest said %q', what, tostring(result)))
  end
  mt.echo('ok   ' .. what)
end

-- Checks one protocol step: the mt.* call returned `result` (nil on success) and the reply
-- miltertest recorded is `expected` (CONTINUE by default).
function M.expect(conn, what, result, expected)
  expected = expected or SMFIR_CONTINUE
  if result ~= nil then
    M.fail(string.format('%s: miltertest said %q', what, tostring(result)))
  end
  local got = mt.getreply(conn)
  local suffix = got == expected and '' or ', expected ' .. M.reply_name(expected)
  M.check(got == expected, string.format('%s -> %s%s', what, M.reply_name(got), suffix))
end

-- Returns the -D define `name`, failing with a usage hint when it is missing.
function M.define(name)
  local value = rawget(_G, name)
  if type(value) ~= 'string' or value == '' then
    M.fail(string.format('missing define: run miltertest with -D %s=...', name))
  end
  return value
end

-- Connects to the daemon on 127.0.0.1:<-D port>, retrying briefly while it starts.
function M.connect()
  local port = M.define('port')
  mt.set_timeout(M.READ_TIMEOUT)
  local conn = mt.connect('inet:' .. port .. '@127.0.0.1', 20, 0.1)
  M.check(conn ~= nil, 'connected to inet:' .. port .. '@127.0.0.1')
  return conn
end

-- SMFIP_NO* flags by step: a milter may switch steps off, and an MTA then skips them (Postfix
-- still sends their MACRO packets). Spamward negotiates NODATA, for one.
local SKIP_FLAGS = {
  CONNECT = SMFIP_NOCONNECT,
  HELO = SMFIP_NOHELO,
  MAIL = SMFIP_NOMAIL,
  RCPT = SMFIP_NORCPT,
  DATA = SMFIP_NODATA,
  HEADER = SMFIP_NOHDRS,
  EOH = SMFIP_NOEOH,
}

-- Performs one protocol step as an MTA would: skipped when the daemon negotiated the step's
-- SMFIP_NO* flag, otherwise `send()` (an mt.* call) must succeed and get `expected`.
function M.step(conn, step, what, send, expected)
  local flag = SKIP_FLAGS[step]
  if flag ~= nil and mt.test_option(conn, flag) then
    mt.echo(string.format('skip %s (daemon negotiated SMFIP_NO%s)', what, step))
    return
  end
  M.expect(conn, what, send(), expected)
end

-- Sends CONNECT for a typical client, expecting CONTINUE.
function M.conninfo(conn)
  M.step(conn, 'CONNECT', 'CONNECT', function()
    return mt.conninfo(conn, 'client.example.org', '192.0.2.7')
  end)
end

-- Sends HELO, expecting CONTINUE.
function M.helo(conn)
  M.step(conn, 'HELO', 'HELO', function()
    return mt.helo(conn, 'client.example.org')
  end)
end

-- Sends CONNECT and HELO, expecting CONTINUE to both.
function M.greet(conn)
  M.conninfo(conn)
  M.helo(conn)
end

-- Sends one header field, expecting CONTINUE.
function M.header(conn, name, value)
  M.step(conn, 'HEADER', 'HEADER ' .. name, function()
    return mt.header(conn, name, value)
  end)
end

-- Sends a small header block, expecting CONTINUE after each field.
function M.headers(conn, subject)
  M.header(conn, 'From', 'Alice <alice@example.org>')
  M.header(conn, 'To', 'Bob <bob@example.net>')
  M.header(conn, 'Subject', subject)
  M.header(conn, 'Message-ID', '<' .. os.time() .. '.miltertest@example.org>')
end

-- Sends MAIL FROM:<alice@example.org>, expecting CONTINUE.
function M.mail(conn)
  M.step(conn, 'MAIL', 'MAIL', function()
    return mt.mailfrom(conn, '<alice@example.org>', 'BODY=8BITMIME')
  end)
end

-- Sends RCPT TO:<bob@example.net>, expecting CONTINUE.
function M.rcpt(conn)
  M.step(conn, 'RCPT', 'RCPT', function()
    return mt.rcptto(conn, '<bob@example.net>')
  end)
end

-- Sends DATA, expecting CONTINUE.
function M.data(conn)
  M.step(conn, 'DATA', 'DATA', function()
    return mt.data(conn)
  end)
end

-- Sends EOH, expecting CONTINUE.
function M.eoh(conn)
  M.step(conn, 'EOH', 'EOH', function()
    return mt.eoh(conn)
  end)
end

-- Sends MAIL, RCPT, DATA, the header block and EOH, expecting CONTINUE after each.
function M.start_message(conn, subject)
  M.mail(conn)
  M.rcpt(conn)
  M.data(conn)
  M.headers(conn, subject)
  M.eoh(conn)
end

-- Sends each string in `chunks` as one BODY packet, expecting CONTINUE after each.
function M.body(conn, chunks)
  for i, chunk in ipairs(chunks) do
    M.expect(conn, string.format('BODY chunk %d (%d bytes)', i, #chunk), mt.bodystring(conn, chunk))
  end
end

-- Sends end-of-message; the final reply must be `expected`.
function M.eom(conn, expected, label)
  M.expect(conn, 'EOM ' .. label, mt.eom(conn), expected)
end

-- The X-Spam-Checker-Version value the daemon must send for a scanned message (the runner passes
-- it as -D checker=...): with HDR_LEADSPC negotiated the milter supplies the space after the
-- colon itself (" Spamward X.Y.Z ..."); without it the MTA adds it.
function M.expected_spamward_value(conn)
  local checker = M.define('checker')
  if mt.test_option(conn, SMFIP_HDR_LEADSPC) then
    return ' ' .. checker
  end
  return checker
end

-- Checks that the last EOM added exactly one X-Spam-Checker-Version header with the exact value:
-- the message was scanned (by the built-in engine) and stamped once.
function M.expect_spamward_header(conn, label)
  local expected = M.expected_spamward_value(conn)
  local name = 'X-Spam-Checker-Version'
  local first = mt.getheader(conn, name, 0)
  M.check(mt.eom_check(conn, MT_HDRADD, name, expected),
    string.format('%s: ADDHEADER %s %q (daemon sent %s)', label, name, expected,
      first and string.format('%q', first) or 'none'))
  local second = mt.getheader(conn, name, 1)
  M.check(second == nil, string.format('%s: no second %s (got %s)', label, name,
    second and string.format('%q', second) or 'none'))
end

-- Checks that the last EOM produced a REPLYCODE 550 5.7.1; the exact text is compared too
-- when the runner passed it as -D reply_text=... (MT_SMTPREPLY only matches whole replies).
function M.expect_gtube_reject(conn, label)
  M.eom(conn, SMFIR_REPLYCODE, label)
  local text = rawget(_G, 'reply_text')
  if type(text) == 'string' and text ~= '' then
    M.check(mt.eom_check(conn, MT_SMTPREPLY, '550', '5.7.1', text),
      string.format('%s: REPLYCODE is exactly "550 5.7.1 %s"', label, text))
  end
end

-- Delivers one ordinary message and checks CONTINUE plus the X-Spam-Checker-Version header.
function M.deliver_plain(conn, label)
  M.start_message(conn, 'plain message: ' .. label)
  M.body(conn, { 'Hello Bob,\r\n\r\nthis is a perfectly ordinary message.\r\n' })
  M.eom(conn, SMFIR_CONTINUE, label)
  M.expect_spamward_header(conn, label)
end

-- Delivers a message with `chunks` as its body and checks the GTUBE rejection.
function M.deliver_gtube(conn, label, chunks)
  M.start_message(conn, 'GTUBE message: ' .. label)
  M.body(conn, chunks)
  M.expect_gtube_reject(conn, label)
end

-- Runs `body`; echoes PASS, or echoes the failure with a traceback and exits with status 1.
function M.run(name, body)
  local ok, err = xpcall(body, debug.traceback)
  if not ok then
    mt.echo(tostring(err))
    mt.echo('FAILED ' .. name)
    os.exit(1)
  end
  mt.echo('PASS ' .. name)
end

return M
