import { describe, expect, test } from 'vitest';
import { parseFolded } from '../src/formats/folded.js';
import { parseLines } from '../src/formats/lines.js';
import { headerParams, parseMultipartFiles } from '../src/formats/multipart.js';
import type { StackSink } from '../src/formats/text.js';
import { parseTree } from '../src/formats/tree.js';
import { parseTrie } from '../src/formats/trie.js';
import { expectIngestError, fixture, multipartBody, node } from './helpers.js';

function collect(parse: (body: Uint8Array, sink: StackSink) => void, body: Uint8Array | string) {
  const stacks: [string, number][] = [];
  parse(typeof body === 'string' ? Buffer.from(body) : body, (stack, value) =>
    stacks.push([stack.join('|'), value]),
  );
  return stacks;
}

const badFormat = (message: RegExp) => ({
  status: 422,
  code: 'invalid_argument',
  reason: 'bad_format',
  message,
});

describe('folded', () => {
  test('root-first stacks, count after the last space, CRLF, skipped lines', () => {
    const body =
      'main;handler;encode 42\n' +
      'main;run task;work 7\r\n' + // frames may contain spaces
      'no-count-line\n' +
      '\n' +
      'main;idle 0\n' +
      ' 5\n' +
      'main;gc 3   \n' +
      'main;handler;encode 1';
    expect(collect(parseFolded, body)).toEqual([
      ['main|handler|encode', 42],
      ['main|run task|work', 7],
      ['main|gc', 3],
      ['main|handler|encode', 1],
    ]);
  });

  test.each(['main;a 12x', 'main;a -1', 'main;a 1.5', 'main;a 1e3', 'main;a 99999999999999999999'])(
    '%j: a bad count is a 422 naming the line',
    (line) => {
      expectIngestError(() => collect(parseFolded, `ok 1\n${line}\n`), badFormat(/^folded line 2: count/));
    },
  );
});

describe('lines', () => {
  test('identical lines add up, empty lines are skipped', () => {
    expect(collect(parseLines, 'a;b;c\n\na;b\r\na;b;c\na;b;c\n')).toEqual([
      ['a|b|c', 3],
      ['a|b', 1],
    ]);
  });
});

describe('trie', () => {
  // Keys are byte-level prefixes: "a;b" + ";c" + ...; nodes with a value are stacks.
  const trie = Uint8Array.from([
    ...node('', 0, 1),
    ...node('main;', 0, 2),
    ...node('handler', 5, 1), // main;handler = 5
    ...node(';encode', 42, 0), // main;handler;encode = 42
    ...node('idle', 3, 0), // main;idle = 3
  ]);

  test('hand-built body', () => {
    expect(collect(parseTrie, trie)).toEqual([
      ['main|handler', 5],
      ['main|handler|encode', 42],
      ['main|idle', 3],
    ]);
  });

  test('empty body, consecutive roots', () => {
    expect(collect(parseTrie, new Uint8Array())).toEqual([]);
    expect(collect(parseTrie, Uint8Array.from([...node('a', 1, 0), ...node('b', 2, 0)]))).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  test('multi-byte varints', () => {
    expect(collect(parseTrie, Uint8Array.from(node('x', 300_000, 0)))).toEqual([['x', 300_000]]);
  });

  test.each([
    ['a cut name', trie.subarray(0, 9)],

    ['a name longer than the body', Uint8Array.from([50, 0x61])],
  ])('%s is a 422', (_, body) => {
    expectIngestError(() => collect(parseTrie, body), badFormat(/^trie body is truncated/));
  });

  test('a missing child node is a 422', () => {
    // drop the last node ("idle"): main; still expects a second child
    const withoutIdle = trie.subarray(0, trie.length - node('idle', 3, 0).length);
    expectIngestError(() => collect(parseTrie, withoutIdle), badFormat(/ends before 1 more child node/));
  });

  test('an overlong varint is a 422', () => {
    expectIngestError(
      () => collect(parseTrie, Uint8Array.from(Array(11).fill(0x80))),
      badFormat(/longer than 10 bytes/),
    );
  });
});

describe('tree', () => {
  const tree = Uint8Array.from([
    ...node('', 0, 2),
    ...node('main', 1, 2), // main = 1 (self)
    ...node('handler', 0, 1),
    ...node('encode', 42, 0),
    ...node('idle', 3, 0),
    ...node('other', 9, 0),
  ]);

  test('hand-built body: whole-frame names below an empty root', () => {
    expect(collect(parseTree, tree)).toEqual([
      ['main', 1],
      ['main|handler|encode', 42],
      ['main|idle', 3],
      ['other', 9],
    ]);
  });

  test('truncated body is a 422', () => {
    expectIngestError(
      () => collect(parseTree, tree.subarray(0, tree.length - 1)),
      badFormat(/^tree body is truncated/),
    );
  });
});

describe('multipart', () => {
  test('file parts by name; plain fields and later duplicates are ignored', () => {
    const body = multipartBody('XyZ', [
      { name: 'note', content: 'a plain field' },
      { name: 'profile', filename: 'profile.pprof', content: 'first' },
      { name: 'profile', filename: 'again.pprof', content: 'second' },
      { name: 'sample_type_config', filename: 'sample_type_config.json', content: '{}' },
      { name: 'empty', filename: 'e', content: '' },
    ]);
    const files = parseMultipartFiles('multipart/form-data; boundary=XyZ', body);
    expect([...files].map(([name, bytes]) => [name, Buffer.from(bytes).toString()])).toEqual([
      ['profile', 'first'],
      ['sample_type_config', '{}'],
      ['empty', ''],
    ]);
  });

  test('quoted boundary, preamble, LF line endings, binary content with CR LF inside', () => {
    const content = Buffer.from([0x1f, 0x8b, 0x0d, 0x0a, 0x2d, 0x2d, 0x00]);
    const body = Buffer.concat([
      Buffer.from('preamble\n--b\nContent-Disposition: form-data; name="profile"; filename="p"\n\n'),
      content,
      Buffer.from('\n--b--\n'),
    ]);
    const files = parseMultipartFiles('Multipart/Form-Data; Boundary="b"', body);
    expect(Buffer.from(files.get('profile')!)).toEqual(content);
  });

  test('the Node 0.4.13 capture', () => {
    const files = parseMultipartFiles(
      'multipart/form-data; boundary=----formdata-undici-033728650777',
      fixture('nodejs-0.4.13-multipart-heap.body'),
    );
    expect([...files.keys()]).toEqual(['profile']);
    expect(files.get('profile')!.length).toBe(2901);
    expect([...files.get('profile')!.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
  });

  test.each([
    ['no boundary parameter', 'multipart/form-data', 'x', /has no boundary parameter/],
    [
      'boundary not in the body',
      'multipart/form-data; boundary=abc',
      'hello',
      /does not contain the boundary "abc"/,
    ],
    [
      'no closing boundary',
      'multipart/form-data; boundary=b',
      '--b\r\nContent-Disposition: form-data; name="profile"; filename="p"\r\n\r\ndata',
      /truncated/,
    ],
    [
      'headers never end',
      'multipart/form-data; boundary=b',
      '--b\r\nContent-Disposition: form-data',
      /truncated/,
    ],
    [
      'garbage after the boundary',
      'multipart/form-data; boundary=b',
      '--bogus\r\n',
      /not followed by a line break/,
    ],
  ])('%s is a 422', (_, contentType, body, message) => {
    expectIngestError(() => parseMultipartFiles(contentType, Buffer.from(body)), badFormat(message));
  });

  test('too many parts is a 422', () => {
    const parts = Array.from({ length: 65 }, (_, i) => ({ name: `f${i}`, filename: 'f', content: 'x' }));
    expectIngestError(
      () => parseMultipartFiles('multipart/form-data; boundary=b', multipartBody('b', parts)),
      badFormat(/more than 64 parts/),
    );
  });

  test('header parameters', () => {
    expect([...headerParams('form-data; name="a \\"q\\""; filename=plain ; x=""')]).toEqual([
      ['name', 'a "q"'],
      ['filename', 'plain'],
      ['x', ''],
    ]);
  });
});
