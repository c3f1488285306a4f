import { describe, expect, it } from 'vitest';
import { transcriptRecords } from '../../test/helpers/transcripts.js';
import { MogileError } from './errors.js';
import { InvariantError } from './invariant-error.js';
import { encodeErr, encodeOk, encodeValue } from './reply.js';
import { parseRequestLine } from './request.js';

describe('encodeValue (spec §3.2)', () => {
  it.each([
    ['hello world', 'hello+world'],
    ['a&b=c', 'a%26b%3Dc'],
    ['per%cent', 'per%25cent'],
    [
      'http://10.0.0.1:7500/dev1/0/000/000/0000000001.fid',
      'http://10.0.0.1:7500/dev1/0/000/000/0000000001.fid',
    ],
    ['€', '%E2%82%AC'],
    ['+', '%2B'],
    ['A_z,0-9./\\:', 'A_z,0-9./\\:'],
    ['', ''],
    ['\0\r\n\t', '%00%0D%0A%09'],
    ['~!*\'()"#?;@[]{}|^`<>$', '%7E%21%2A%27%28%29%22%23%3F%3B%40%5B%5D%7B%7D%7C%5E%60%3C%3E%24'],
    ['\u00e9', '%C3%A9'],
  ])('%j → %s', (text, wire) => {
    expect(encodeValue(text)).toBe(wire);
  });
});

describe('encodeOk (spec §3.1)', () => {
  it('is exactly "OK \\r\\n" without pairs', () => {
    expect(encodeOk({})).toBe('OK \r\n');
    expect(encodeOk(new Map())).toBe('OK \r\n');
  });

  it('encodes pairs in order, null and undefined as empty values', () => {
    expect(encodeOk({ a: 'x y', b: 3, c: null, d: undefined, e: 10n })).toBe(
      'OK a=x+y&b=3&c=&d=&e=10\r\n',
    );
    expect(encodeOk(new Map([['k e y', 'v&']]))).toBe('OK k+e+y=v%26\r\n');
  });

  it('appends the callid as a pair, replacing an echoed one', () => {
    expect(encodeOk({}, '17')).toBe('OK callid=17\r\n');
    expect(encodeOk({ callid: 'old', a: '1' }, 'a b&c+')).toBe('OK a=1&callid=a+b%26c%2B\r\n');
    expect(encodeOk({ callid: 'kept' })).toBe('OK callid=kept\r\n');
  });

  it('refuses a name that starts with a digit, with an InvariantError', () => {
    expect(() => encodeOk({ '1abc': 'x' })).toThrow(InvariantError);
    expect(() => encodeOk({ a: 'x', '9': 'y' })).toThrow(MogileError);
    try {
      encodeOk({ '2x': '' });
    } catch (error) {
      expect((error as MogileError).code).toBe('invariant_violation');
    }
  });
});

describe('encodeErr (spec §3.3)', () => {
  it('encodes the text and appends the callid token', () => {
    expect(encodeErr('unknown_command', 'Unknown server command')).toBe(
      'ERR unknown_command Unknown+server+command\r\n',
    );
    expect(encodeErr('unknown_key', 'unknown_key', '18')).toBe(
      'ERR unknown_key unknown_key 18\r\n',
    );
    expect(encodeErr('failure', 'x', 'a b')).toBe('ERR failure x a+b\r\n');
  });

  it('keeps the token positions: no empty text, no empty callid', () => {
    expect(encodeErr('no_key', '')).toBe('ERR no_key no_key\r\n');
    expect(encodeErr('db', '', '')).toBe('ERR db Database+error\r\n');
  });
});

describe('transcript replies re-encode byte for byte', () => {
  for (const record of transcriptRecords('parse.')) {
    if (!record.reply.startsWith('ERR ') || record.id === 'parse.pipelined') continue;
    it(record.id, () => {
      const error = record.error!;
      expect(encodeErr(error.code as 'failure', error.text, error.callid)).toBe(record.reply);
    });
  }

  for (const record of [...transcriptRecords('parse.'), ...transcriptRecords('decode.')]) {
    if (!record.reply.startsWith('OK ') || record.id === 'parse.pipelined') continue;
    // Pair order is random in the original, so only single-pair replies compare as strings.
    if (Object.keys(record.reply_args ?? {}).length > 1) continue;
    it(record.id, () => {
      const parsed = parseRequestLine(record.request);
      if (parsed.kind !== 'command') throw new Error('not a command');
      const callid = parsed.args.get('callid');
      const pairs = parsed.name === 'clear_cache' ? parsed.args : new Map<string, string>();
      expect(encodeOk(pairs, callid)).toBe(record.reply);
    });
  }
});
