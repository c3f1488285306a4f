import { describe, expect, it } from 'vitest';
import { transcriptRecords } from '../../test/helpers/transcripts.js';
import { decodeArgs, parseRequestLine } from './request.js';

function argsOf(line: string | Uint8Array): Record<string, string> {
  const parsed = parseRequestLine(line);
  if (parsed.kind !== 'command') throw new Error(`not a command: ${parsed.kind}`);
  return Object.fromEntries(parsed.args);
}

describe('parseRequestLine: line shape (spec §2)', () => {
  it.each([
    ['', 'empty'],
    ['\n', 'empty'],
    ['\r\n', 'empty'],
    ['\r', 'empty'],
    ['    ', 'unknown'],
    ['    \r\n', 'unknown'],
    ['\r\r\n', 'unknown'],
    ['!', 'unknown'],
    ['! version', 'unknown'],
    ['-noop', 'unknown'],
    ['€uro', 'unknown'],
    ['!version', 'admin'],
    ['!VERSION', 'admin'],
    ['noop', 'command'],
  ])('%j is %s', (line, kind) => {
    expect(parseRequestLine(line).kind).toBe(kind);
  });

  it('strips LF and exactly one CR', () => {
    expect(parseRequestLine('noop a=1\r\n')).toMatchObject({ raw: 'noop a=1', name: 'noop' });
    expect(parseRequestLine('noop a=1\r\r\n')).toMatchObject({ raw: 'noop a=1\r' });
    expect(argsOf('noop a=1\r\r\n')).toEqual({ a: '1\r' });
  });

  it('lower-cases the name, which is the longest word-character run', () => {
    expect(parseRequestLine('GET_PATHS domain=d')).toMatchObject({ name: 'get_paths' });
    expect(parseRequestLine('NoOp')).toMatchObject({ name: 'noop' });
    expect(parseRequestLine('get-paths domain=d')).toMatchObject({ name: 'get' });
    expect(parseRequestLine('   noop')).toMatchObject({ name: 'noop' });
    expect(parseRequestLine('\tnoop\t x=1')).toMatchObject({ name: 'noop' });
    expect(argsOf('\tnoop\t x=1')).toEqual({ x: '1' });
  });

  it('treats what follows the name as the argument string (noop&x=1)', () => {
    expect(argsOf('noop&x=1')).toEqual({ x: '1' });
  });

  it('splits admin commands into a word and arguments, case kept', () => {
    expect(parseRequestLine('!want  3 replicate \r\n')).toEqual({
      kind: 'admin',
      command: 'want',
      args: ['3', 'replicate'],
      raw: '!want  3 replicate ',
    });
    expect(parseRequestLine('!VERSION')).toMatchObject({ command: 'VERSION', args: [] });
  });

  it('accepts bytes as well as text', () => {
    expect(argsOf(Buffer.from('noop k=%E2%82%AC&r=€\r\n'))).toEqual({ k: '€', r: '€' });
    expect(parseRequestLine(new Uint8Array([0x6e, 0x6f, 0x6f, 0x70]))).toMatchObject({
      name: 'noop',
    });
  });
});

describe('decodeArgs (spec §2.1)', () => {
  it.each([
    ['a=1&b=2', { a: '1', b: '2' }],
    ['a=1&0&&b=2', { a: '1', b: '2' }],
    ['00&a=1', { '00': '', a: '1' }],
    ['a=b=c&d==e', { a: 'b', d: '' }],
    ['flag&x=', { flag: '', x: '' }],
    ['=x', { '': 'x' }],
    ['=', { '': '' }],
    ['a=hello+world', { a: 'hello world' }],
    ['b=%41%2b%2B', { b: 'A++' }],
    ['c=%zz%4', { c: '%zz%4' }],
    ['x=%zz%41', { x: '%zzA' }],
    ['x=%8g%7e%7F', { x: '%8g~\u007f' }],
    ['x=%8', { x: '%8' }],
    // `%u` is not an escape of the protocol (JavaScript's `unescape` would take `%u0041`).
    ['u=%u0041%41&w=%U00e9', { u: '%u0041A', w: '%U00e9' }],
    ['d=%e2%82%ac', { d: '€' }],
    ['a%20b=1&c+d=2', { 'a b': '1', 'c d': '2' }],
    ['a=%26%3D', { a: '&=' }],
    ['k=1&k=2', { k: '1\u00002' }],
    ['k=0&k=1', { k: '01' }],
    ['k=&k=2', { k: '2' }],
    ['k=1&k=&k=3', { k: '1\u0000\u00003' }],
    ['k=0&k=0&k=5', { k: '00\u00005' }],
    ['', {}],
    ['&&&', {}],
  ])('%j', (argString, expected) => {
    expect(Object.fromEntries(decodeArgs(argString))).toEqual(expected);
  });

  it('joins duplicate bytes before decoding them as UTF-8', () => {
    expect(decodeArgs('k=%E2&k=%82%AC').get('k')).toBe('\u00e2\u0000\u0082\u00ac');
    expect(decodeArgs('k=0&k=%E2&k=%82%AC').get('k')).toBe('0\u00e2\u0000\u0082\u00ac');
    expect(decodeArgs('k=&k=%E2&k=%82%AC').get('k')).toBe('\u00e2\u0000\u0082\u00ac');
    expect(decodeArgs('k=%E2%82&k=%AC').get('k')).toBe('\u00e2\u0082\u0000\u00ac');
  });

  it('falls back to latin1 for bytes that are not UTF-8', () => {
    expect(decodeArgs('k=%FF%FE').get('k')).toBe('\u00ff\u00fe');
    expect(decodeArgs(Buffer.from([0x6b, 0x3d, 0xe9])).get('k')).toBe('\u00e9');
  });

  it('keeps a byte-order mark', () => {
    expect(decodeArgs('k=%EF%BB%BFx').get('k')).toBe('\ufeffx');
  });
});

describe('decode.* transcript records (clear_cache echoes its decoded arguments)', () => {
  for (const record of transcriptRecords('decode.')) {
    it(`${record.id}: ${record.note}`, () => {
      const parsed = parseRequestLine(record.request);
      expect(parsed.kind).toBe('command');
      if (parsed.kind !== 'command') return;
      expect(parsed.name).toBe('clear_cache');
      expect(Object.fromEntries(parsed.args)).toEqual(record.reply_args);
    });
  }
});
