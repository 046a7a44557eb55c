import { describe, expect, test } from 'vitest';
import {
  normalizeAddress,
  parseTrustedProxies,
  resolveClientAddress,
} from '../../../server/master/client-address.js';

describe('parseTrustedProxies', () => {
  test('takes addresses and CIDR blocks, IPv4 and IPv6', () => {
    const trusted = parseTrustedProxies('127.0.0.1, 10.0.0.0/8,fd00::/8, ::1');
    expect(trusted.has('127.0.0.1')).toBe(true);
    expect(trusted.has('::ffff:127.0.0.1')).toBe(true);
    expect(trusted.has('127.0.0.2')).toBe(false);
    expect(trusted.has('10.200.3.4')).toBe(true);
    expect(trusted.has('11.0.0.1')).toBe(false);
    expect(trusted.has('fd12::1')).toBe(true);
    expect(trusted.has('fe80::1')).toBe(false);
    expect(trusted.has('::1')).toBe(true);
    expect(trusted.has('not an address')).toBe(false);
    expect(trusted.spec).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      'fd00::/8',
      '::1',
    ]);
  });

  test.each([
    ['proxy.example.org', /not an IP address or CIDR block/],
    ['10.0.0.0/33', /not an IP address or CIDR block/],
    ['10.0.0.0/8/1', /not an IP address or CIDR block/],
    ['::1/129', /not an IP address or CIDR block/],
    [' , ', /needs at least one address/],
  ])('refuses %j with a clear message', (spec, message) => {
    expect(() => parseTrustedProxies(spec)).toThrow(message);
  });
});

describe('resolveClientAddress', () => {
  const trusted = parseTrustedProxies('127.0.0.1,10.0.0.0/8');

  test('an untrusted peer is the client, whatever header it sends', () => {
    expect(resolveClientAddress('203.0.113.9', '198.51.100.1', trusted)).toBe(
      '203.0.113.9',
    );
    expect(
      resolveClientAddress('::ffff:203.0.113.9', '127.0.0.1', trusted),
    ).toBe('203.0.113.9');
  });

  test('a trusted peer without the header is the client', () => {
    expect(resolveClientAddress('127.0.0.1', undefined, trusted)).toBe(
      '127.0.0.1',
    );
  });

  test('from a trusted peer: the right-most hop that is not a trusted proxy', () => {
    // The client forged the first entry; nginx appended what it saw.
    expect(
      resolveClientAddress('127.0.0.1', '6.6.6.6, 198.51.100.7', trusted),
    ).toBe('198.51.100.7');
    // Two proxies in a row, both trusted.
    expect(
      resolveClientAddress(
        '127.0.0.1',
        '6.6.6.6, 198.51.100.7, 10.1.2.3',
        trusted,
      ),
    ).toBe('198.51.100.7');
    // Repeated headers are one list.
    expect(
      resolveClientAddress('127.0.0.1', ['6.6.6.6', '198.51.100.7'], trusted),
    ).toBe('198.51.100.7');
  });

  test('a chain of trusted hops only: the left-most of them', () => {
    expect(
      resolveClientAddress('127.0.0.1', '10.0.0.5, 10.0.0.6', trusted),
    ).toBe('10.0.0.5');
  });

  test('a malformed hop ends the walk at the last address a trusted proxy vouched for', () => {
    expect(
      resolveClientAddress('127.0.0.1', '198.51.100.7, junk', trusted),
    ).toBe('127.0.0.1');
    expect(resolveClientAddress('127.0.0.1', 'junk, 10.0.0.9', trusted)).toBe(
      '10.0.0.9',
    );
  });

  test('a very long header is read from the right, bounded', () => {
    const forged = Array.from({ length: 10_000 }, () => '6.6.6.6').join(',');
    expect(
      resolveClientAddress('127.0.0.1', `${forged},198.51.100.7`, trusted),
    ).toBe('198.51.100.7');
  });

  test('IPv4-mapped IPv6 peers read as IPv4', () => {
    expect(normalizeAddress('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeAddress('2001:DB8::1')).toBe('2001:db8::1');
  });
});
