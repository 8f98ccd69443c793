-- (a) A normal message gets CONTINUE at end-of-message and exactly one X-Spamward header with
-- the exact version value, both with HDR_LEADSPC (miltertest's default offer) and without it.
-- Usage: miltertest -s normal.lua -D port=NNNN -D version=X.Y.Z
local sw = dofile((debug.getinfo(1, 'S').source:match('^@?(.*/)') or './') .. 'lib/spamward.lua')

-- Every protocol flag miltertest knows (its default offer, SMFI_CURR_PROT).
local ALL_PROTOCOL_FLAGS = 0x1FFFFF

sw.run('normal', function()
  sw.define('version')
  -- The default offer (all actions, all protocol bits) includes HDR_LEADSPC.
  local conn = sw.connect()
  sw.sent('OPTNEG (default offer)', mt.negotiate(conn, nil, nil, nil))
  sw.check(mt.test_action(conn, SMFIF_ADDHDRS), 'daemon requested SMFIF_ADDHDRS')
  sw.check(mt.test_option(conn, SMFIP_HDR_LEADSPC), 'daemon requested HDR_LEADSPC when offered')
  sw.greet(conn)
  sw.deliver_plain(conn, 'with HDR_LEADSPC')
  sw.sent('QUIT', mt.disconnect(conn))

  -- Without HDR_LEADSPC in the offer. miltertest's real argument order is
  -- (conn, version, protocol flags, actions), not the man page's.
  local bare = sw.connect()
  local offer = ALL_PROTOCOL_FLAGS - SMFIP_HDR_LEADSPC
  sw.sent('OPTNEG (no HDR_LEADSPC)', mt.negotiate(bare, 6, offer, nil))
  sw.check(not mt.test_option(bare, SMFIP_HDR_LEADSPC), 'daemon did not request HDR_LEADSPC')
  sw.greet(bare)
  sw.deliver_plain(bare, 'without HDR_LEADSPC')
  sw.sent('QUIT', mt.disconnect(bare))
end)
