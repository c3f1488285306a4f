import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRequestLine, parseReplyLine } from './client-codec.js';
import { encodeErr, encodeOk } from './reply.js';
import { parseRequestLine } from './request.js';

describe('client codec', () => {
  it('encodes requests that the server decoder reads back exactly', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (key, value) => {
        const line = encodeRequestLine('get_paths', [
          ['key', key],
          ['v', value],
        ]);
        const parsed = parseRequestLine(line);
        expect(parsed).toMatchObject({ kind: 'command', name: 'get_paths' });
        if (parsed.kind !== 'command') return;
        expect(parsed.args.get('key')).toBe(key);
        expect(parsed.args.get('v')).toBe(value);
      }),
    );
  });

  it('leaves out undefined and null, sends booleans as 1/0, keeps the space after the command', () => {
    expect(encodeRequestLine('noop', [])).toBe('noop \r\n');
    expect(
      encodeRequestLine('x', [
        ['a', undefined],
        ['b', null],
        ['c', true],
        ['d', false],
        ['e', 5],
      ]),
    ).toBe('x c=1&d=0&e=5\r\n');
    expect(() => encodeRequestLine('bad command', [])).toThrow(TypeError);
  });

  it('decodes what the server encodes', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), fc.string()),
        (pairs) => {
          const reply = parseReplyLine(encodeOk(pairs));
          expect(reply.kind).toBe('ok');
          if (reply.kind === 'ok') expect(Object.fromEntries(reply.pairs)).toEqual(pairs);
        },
      ),
    );
  });

  it('decodes ERR code, text and callid', () => {
    expect(parseReplyLine(encodeErr('none_match', '', 'c 1'))).toEqual({
      kind: 'err',
      code: 'none_match',
      text: 'No keys match that pattern and after-value (if any).',
      callid: 'c 1',
    });
    expect(parseReplyLine('ERR failure\r\n')).toEqual({
      kind: 'err',
      code: 'failure',
      text: '',
      callid: undefined,
    });
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(['ok', 'err', 'invalid']).toContain(parseReplyLine(bytes).kind);
      }),
    );
  });

  it('calls anything else invalid', () => {
    for (const line of ['', 'OKAY', 'HTTP/1.1 200 OK', 'OK a b', ' OK x=1', 'ERR']) {
      expect(parseReplyLine(line).kind).toBe('invalid');
    }
  });
});
