-- (e) Unrecognised SMTP commands (SMFIC_UNKNOWN) get CONTINUE, before and inside a
-- transaction, and the message around them is filtered as usual.
-- Usage: miltertest -s unknown.lua -D port=NNNN -D version=X.Y.Z
local sw = dofile((debug.getinfo(1, 'S').source:match('^@?(.*/)') or './') .. 'lib/spamward.lua')

-- Sends an UNKNOWN command and expects CONTINUE.
local function unknown(conn, what, command)
  sw.expect(conn, string.format('UNKNOWN %q %s', command, what), mt.unknown(conn, command))
end

sw.run('unknown', function()
  sw.define('version')
  local conn = sw.connect()
  sw.sent('OPTNEG', mt.negotiate(conn, nil, nil, nil))
  sw.check(not mt.test_option(conn, SMFIP_NOUNKNOWN), 'daemon did not request SMFIP_NOUNKNOWN')
  sw.greet(conn)
  unknown(conn, 'after HELO', 'XFROB --verbose')
  -- Postfix's milter_unknown_command_macros is empty by default; send a near-empty one.
  sw.sent('MACRO before UNKNOWN', mt.macro(conn, string.byte('U'), '{x}', ''))
  unknown(conn, 'without arguments', 'frob')

  sw.mail(conn)
  sw.rcpt(conn)
  unknown(conn, 'inside the transaction', 'XSTATS')
  sw.data(conn)
  sw.headers(conn, 'message around unknown commands')
  sw.eoh(conn)
  sw.body(conn, { 'Hello Bob.\r\n' })
  sw.eom(conn, SMFIR_CONTINUE, 'message around UNKNOWN')
  sw.expect_spamward_header(conn, 'message around UNKNOWN')
  sw.sent('QUIT', mt.disconnect(conn))
end)
