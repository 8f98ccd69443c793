-- (g) mt.bodyfile() sends a body file in 65536-byte BODY packets, one byte more than libmilter
-- accepts; Spamward must take them. A >128 KiB plain body gets CONTINUE and the header, and
-- GTUBE straddling the first 65536-byte packet boundary is still found.
-- Usage: miltertest -s bodyfile-large.lua -D port=NNNN -D version=X.Y.Z [-D reply_text='...']
local sw = dofile((debug.getinfo(1, 'S').source:match('^@?(.*/)') or './') .. 'lib/spamward.lua')

local CHUNK = 65536
local LINE = string.rep('0123456789', 7) .. 'abcdef\r\n' -- 78 bytes

-- Returns `n` bytes of CRLF-terminated text lines.
local function filler(n)
  local text = string.rep(LINE, n // #LINE + 1)
  return text:sub(1, n - 2) .. '\r\n'
end

-- Writes `content` to a fresh temporary file and returns its path.
local function write_temp(content)
  local path = os.tmpname()
  local file = assert(io.open(path, 'wb'))
  file:write(content)
  file:close()
  return path
end

-- Sends `content` through mt.bodyfile() as the body of a new message.
local function send_file_body(conn, label, content)
  sw.start_message(conn, label)
  local path = write_temp(content)
  local ok, result = pcall(mt.bodyfile, conn, path)
  os.remove(path)
  if not ok then
    sw.fail('mt.bodyfile raised ' .. tostring(result))
  end
  sw.expect(conn, string.format('BODY via bodyfile (%d bytes, %d packets)', #content,
    (#content + CHUNK - 1) // CHUNK), result)
end

sw.run('bodyfile-large', function()
  sw.define('version')
  local conn = sw.connect()
  sw.greet(conn)

  local plain = filler(2 * CHUNK + 1000)
  send_file_body(conn, 'large plain body', plain)
  sw.eom(conn, SMFIR_CONTINUE, 'large plain body')
  sw.expect_spamward_header(conn, 'large plain body')
  sw.sent('ABORT', mt.abort(conn))

  local head = filler(CHUNK - 2 - 30)
  local spam = head .. '\r\n' .. sw.GTUBE .. '\r\n' .. filler(CHUNK)
  local first = spam:find(sw.GTUBE, 1, true)
  local last = first + #sw.GTUBE - 1
  sw.check(first <= CHUNK and last > CHUNK,
    string.format('GTUBE at bytes %d-%d straddles the first packet boundary', first, last))
  send_file_body(conn, 'large GTUBE body', spam)
  sw.expect_gtube_reject(conn, 'GTUBE across the packet boundary')
  sw.sent('QUIT', mt.disconnect(conn))
end)
