import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSocketAddress, parseSocketAddress, SocketAddressError } from './socket-address.ts';

describe('parseSocketAddress', () => {
  const cases: [string, ReturnType<typeof parseSocketAddress>][] = [
    ['inet:11332@127.0.0.1', { kind: 'inet', host: '127.0.0.1', port: 11332 }],
    ['inet:127.0.0.1:8891', { kind: 'inet', host: '127.0.0.1', port: 8891 }],
    ['inet:8891', { kind: 'inet', host: '127.0.0.1', port: 8891 }],
    ['inet:0@localhost', { kind: 'inet', host: 'localhost', port: 0 }],
    ['inet6:8891@::1', { kind: 'inet', host: '::1', port: 8891 }],
    ['inet6:[::1]:8891', { kind: 'inet', host: '::1', port: 8891 }],
    ['inet6:8891', { kind: 'inet', host: '::1', port: 8891 }],
    ['unix:/run/spamward/milter.sock', { kind: 'unix', path: '/run/spamward/milter.sock' }],
    ['local:/tmp/m.sock', { kind: 'unix', path: '/tmp/m.sock' }],
    ['UNIX:/tmp/m.sock', { kind: 'unix', path: '/tmp/m.sock' }],
  ];
  for (const [spec, expected] of cases) {
    it(spec, () => assert.deepEqual(parseSocketAddress(spec), expected));
  }

  for (const bad of ['11332', 'tcp:1@h', 'inet:abc@h', 'inet:70000@h', 'unix:', 'inet:@h']) {
    it(`rejects ${bad} with a reason`, () => {
      assert.throws(
        () => parseSocketAddress(bad),
        (err: unknown) => err instanceof SocketAddressError && err.message.includes(bad),
      );
    });
  }

  it('formats the libmilter way', () => {
    assert.equal(
      formatSocketAddress({ kind: 'inet', host: '127.0.0.1', port: 5 }),
      'inet:5@127.0.0.1',
    );
    assert.equal(formatSocketAddress({ kind: 'inet', host: '::1', port: 5 }), 'inet6:5@::1');
    assert.equal(formatSocketAddress({ kind: 'unix', path: '/x' }), 'unix:/x');
  });
});
