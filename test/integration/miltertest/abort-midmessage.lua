-- An ABORT in the middle of a body discards what was buffered: the first half of GTUBE in an
-- aborted message and the second half in the next one must not add up to a GTUBE match.
-- Usage: miltertest -s abort-midmessage.lua -D port=NNNN -D version=X.Y.Z
local sw = dofile((debug.getinfo(1, 'S').source:match('^@?(.*/)') or './') .. 'lib/spamward.lua')

sw.run('abort-midmessage', function()
  sw.define('version')
  local half = 34
  local conn = sw.connect()
  sw.greet(conn)

  sw.start_message(conn, 'aborted half')
  sw.body(conn, { 'first part\r\n' .. sw.GTUBE:sub(1, half) })
  sw.sent('ABORT in the middle of the body', mt.abort(conn))

  sw.start_message(conn, 'other half')
  sw.body(conn, { sw.GTUBE:sub(half + 1) .. '\r\n' })
  sw.eom(conn, SMFIR_CONTINUE, 'second message')
  sw.expect_spamward_header(conn, 'second message')
  sw.sent('QUIT', mt.disconnect(conn))
end)
