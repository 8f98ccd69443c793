-- (b) A body containing GTUBE is rejected at end-of-message with REPLYCODE 550 5.7.1
-- (the full reply text is compared when the runner passes -D reply_text=...).
-- Usage: miltertest -s gtube.lua -D port=NNNN [-D reply_text='...']
local sw = dofile((debug.getinfo(1, 'S').source:match('^@?(.*/)') or './') .. 'lib/spamward.lua')

sw.run('gtube', function()
  local conn = sw.connect()
  sw.greet(conn)
  sw.deliver_gtube(conn, 'GTUBE in one chunk', {
    'This is the GTUBE, the Generic Test for Unsolicited Bulk Email.\r\n\r\n'
      .. sw.GTUBE
      .. '\r\n\r\nYou should send this test mail from an account outside your network.\r\n',
  })
  sw.sent('QUIT', mt.disconnect(conn))
end)
