-- (c) Several messages on one milter connection, with ABORT between them as Postfix sends it:
-- plain, plain again, GTUBE, then plain once more (so a rejection leaves no state behind).
-- Usage: miltertest -s two-messages.lua -D port=NNNN -D version=X.Y.Z
local sw = dofile((debug.getinfo(1, 'S').source:match('^@?(.*/)') or './') .. 'lib/spamward.lua')

sw.run('two-messages', function()
  sw.define('version')
  local conn = sw.connect()
  sw.greet(conn)
  sw.deliver_plain(conn, 'message 1')
  sw.sent('ABORT after message 1', mt.abort(conn))
  sw.deliver_plain(conn, 'message 2')
  sw.sent('ABORT after message 2', mt.abort(conn))
  sw.deliver_gtube(conn, 'message 3 (GTUBE)', { sw.GTUBE .. '\r\n' })
  sw.sent('ABORT after message 3', mt.abort(conn))
  sw.deliver_plain(conn, 'message 4')
  sw.sent('QUIT', mt.disconnect(conn))
end)
