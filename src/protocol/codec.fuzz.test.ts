import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { trackerTranscript } from '../../test/helpers/transcripts.js';
import { MogileError } from './errors.js';
import { encodeErr, encodeOk, encodeValue } from './reply.js';
import { decodeArgs, parseRequestLine } from './request.js';

const RUNS = 500;
const realLines = trackerTranscript()
  .map((record) => record.request)
  .filter((line) => !line.startsWith('PUT '));

/** A real request line with random bytes overwritten, inserted or cut. */
const mutatedLine = fc
  .tuple(
    fc.constantFrom(...realLines),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(2)), { maxLength: 6 }),
  )
  .map(([line, edits]) => {
    const bytes = [...Buffer.from(line, 'utf8')];
    for (const [position, byte, action] of edits) {
      const at = bytes.length === 0 ? 0 : position % bytes.length;
      if (action === 0) bytes[at] = byte;
      else if (action === 1) bytes.splice(at, 0, byte);
      else bytes.splice(at, 1);
    }
    return Uint8Array.from(bytes);
  });

/** Characters the protocol treats specially, to make collisions likely. */
const protocolText = fc
  .array(
    fc.oneof(
      fc.constantFrom('&', '=', '%', '+', ' ', '0', '!', '\r', '\n', '%2', '%zz', '%E2', 'a'),
      fc.string({ unit: 'binary', maxLength: 3 }),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(''));

function onlyMogileErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MogileError);
  }
}

describe('codec fuzz: nothing throws but a MogileError', () => {
  it('parseRequestLine on random text, bytes and mutated real lines', () => {
    const input = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      protocolText,
      fc.uint8Array({ maxLength: 200 }),
      mutatedLine,
    );
    fc.assert(
      fc.property(input, (line) => {
        onlyMogileErrors(() => parseRequestLine(line));
        onlyMogileErrors(() => decodeArgs(line));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('encoders on random pairs, texts and callids', () => {
    const value = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string(),
      fc.integer(),
      fc.bigInt(),
      fc.constant(null),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), value),
        fc.option(fc.string(), { nil: undefined }),
        (pairs, callid) => {
          onlyMogileErrors(() => encodeOk(pairs, callid));
          onlyMogileErrors(() => encodeErr('failure', callid ?? '', callid));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('codec fuzz: round trips', () => {
  const name = fc.string({ unit: 'binary' }).filter((text) => !/^[0-9]/.test(text));
  // Lone surrogates cannot survive UTF-8, so texts are made well-formed first.
  const text = fc
    .oneof(fc.string({ unit: 'binary' }), protocolText)
    .map((t) => Buffer.from(t, 'utf8').toString('utf8'));

  it('encodeOk then decodeArgs gives back the pairs', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, text), { selector: ([n]) => n }), (entries) => {
        const line = encodeOk(new Map(entries));
        expect(line).toMatch(/^OK \S*\r\n$/);
        expect(decodeArgs(line.slice(3, -2))).toEqual(new Map(entries));
      }),
      { numRuns: RUNS },
    );
  });

  it('unescapes exactly as the rule says: + first, then each %XX, a bad % kept', () => {
    // The rule written the obvious way (a regular expression), as the decoder must behave.
    const byRule = (wire: string) => {
      const bytes = wire
        .replaceAll('+', ' ')
        .replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      if (!/[^\x00-\x7f]/.test(bytes)) return bytes;
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(bytes, 'latin1'));
      } catch {
        return bytes;
      }
    };
    const escapes = fc.stringMatching(/^[%+24AaFfcGuUx ]{0,24}$/);
    fc.assert(
      fc.property(escapes, (wire) => {
        expect(decodeArgs(`v=${wire}`).get('v')).toBe(byRule(wire));
      }),
      { numRuns: RUNS },
    );
  });

  it('an encoded value is one token of safe characters that decodes back', () => {
    fc.assert(
      fc.property(text, (value) => {
        const wire = encodeValue(value);
        expect(wire).toMatch(/^[A-Za-z0-9_,\-./\\:+%]*$/);
        expect(decodeArgs(`v=${wire}`).get('v')).toBe(value);
      }),
      { numRuns: RUNS },
    );
  });

  it('a request line built from pairs parses back to the same command and pairs', () => {
    const command = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/);
    fc.assert(
      fc.property(
        command,
        fc.uniqueArray(fc.tuple(name, text), { selector: ([n]) => n, minLength: 1 }),
        (word, entries) => {
          const body = encodeOk(new Map(entries)).slice(3, -2);
          const parsed = parseRequestLine(`${word} ${body}\r\n`);
          expect(parsed).toMatchObject({ kind: 'command', name: word.toLowerCase() });
          if (parsed.kind === 'command') expect(parsed.args).toEqual(new Map(entries));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
