-- (f) GTUBE split across BODY packets is still detected: split after its first byte, in the
-- middle, before its last byte, three ways, and with the CRLF before it split in two.
-- Usage: miltertest -s split-gtube.lua -D port=NNNN [-D reply_text='...']
local sw = dofile((debug.getinfo(1, 'S').source:match('^@?(.*/)') or './') .. 'lib/spamward.lua')

local G = sw.GTUBE
local PREFIX = 'Hello,\r\nthe test string follows:\r\n'

local CASES = {
  { 'split after byte 1', { PREFIX .. G:sub(1, 1), G:sub(2) .. '\r\n' } },
  { 'split in the middle', { 'intro\r\n', PREFIX .. G:sub(1, 34), G:sub(35) .. '\r\nbye\r\n' } },
  { 'split before the last byte', { PREFIX .. G:sub(1, -2), G:sub(-1) .. '\r\n' } },
  { 'split three ways', { PREFIX .. G:sub(1, 20), G:sub(21, 50), G:sub(51) .. '\r\n' } },
  { 'CRLF before it split', { PREFIX .. 'line\r', '\n' .. G .. '\r\n' } },
}

sw.run('split-gtube', function()
  local conn = sw.connect()
  sw.greet(conn)
  for i, case in ipairs(CASES) do
    if i > 1 then
      sw.sent('ABORT', mt.abort(conn))
    end
    sw.deliver_gtube(conn, case[1], case[2])
  end
  sw.sent('QUIT', mt.disconnect(conn))
end)
