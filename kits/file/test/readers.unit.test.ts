import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { strToU8, zipSync } from 'fflate';
import { decompressed } from '../src/decompress.js';
import { INVALID_UTF8 } from '../src/text.js';
import { readerOf, textFormat, type FileRecord } from '../src/formats/index.js';
import { compileGlob, scopesOf } from '../src/glob.js';
import { Inference } from '../src/infer.js';
import type { CsvDialect } from '../src/streams.js';
import { streamSpecs } from '../src/streams.js';
import { fileConfig } from '../src/config.js';
import { loadConfig } from '@datakit/core';
import { fileKit } from '../src/index.js';

const dialect: CsvDialect = { quote: '"', escape: '"', header: true, emptyAsNull: true, nullValues: [], encoding: 'utf-8' };
const entry = { path: 'x', size: 0, modifiedMicros: 0n, version: '0' };

async function records(format: 'csv' | 'tsv' | 'ndjson' | 'json', bytes: Buffer | Buffer[], csv: Partial<CsvDialect> = {}): Promise<FileRecord[]> {
  const chunks = Array.isArray(bytes) ? bytes : [bytes];
  const out: FileRecord[] = [];
  const source = { entry, bytes: () => (async function* () { yield* chunks; })(), readRange: async () => new Uint8Array(0) };
  for await (const r of readerOf(format).records(source, { signal: new AbortController().signal, csv: { ...dialect, ...csv } })) out.push(r);
  return out;
}

describe('the CSV reader', () => {
  it('reads quoted, multi-line and CRLF records with their first line as the row number', async () => {
    const r = await records('csv', Buffer.from('a,b\r\n1,"x,y"\r\n\r\n2,"multi\r\nline"\r\n3,"q""q"\r\n'));
    expect(r.map((x) => [x.row, x.pos, x.values])).toEqual([[2, 2, ['1', 'x,y']], [4, 5, ['2', 'multi\r\nline']], [6, 6, ['3', 'q"q']]]);
  });

  it('reports ragged rows and invalid UTF-8 as error records in their place, with their raw text', async () => {
    const r = await records('csv', Buffer.concat([Buffer.from('a,b\n1,2\n3\n7,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n8,9\n')]));
    expect(r.map((x) => [x.row, x.error ?? x.values])).toEqual([
      [2, ['1', '2']],
      [3, 'ragged row: 1 fields where the header has 2'],
      [4, 'invalid UTF-8 byte sequence'],
      [5, ['8', '9']],
    ]);
    expect(r.filter((x) => x.error).map((x) => x.raw)).toEqual(['3\n', `7,${INVALID_UTF8}(\n`]);
  });

  it('reports a broken quote once, with the lines its unparsable text runs over, and reads on at the next line', async () => {
    const r = await records('csv', Buffer.from('a,b\n1,2\n"bad"x,1\n5,6\n"multi\nline"x\n7,8\nab"c,9\n10,"open\n11,12\n'));
    expect(r.map((x) => [x.row, x.pos, x.error ?? x.values])).toEqual([
      [2, 2, ['1', '2']],
      [3, 3, 'CSV syntax: CSV_INVALID_CLOSING_QUOTE at line 3'],
      [4, 4, ['5', '6']],
      [5, 6, 'CSV syntax: CSV_INVALID_CLOSING_QUOTE at line 5 (the unparsable text runs to line 6)'],
      [7, 7, ['7', '8']],
      [8, 8, 'CSV syntax: CSV_INVALID_OPENING_QUOTE at line 8'],
      // a quote never closed: the rest of the file is one bad record, and the file ends there
      [9, 11, 'CSV syntax: CSV_QUOTE_NOT_CLOSED at line 9 (the unparsable text runs to line 11)'],
    ]);
    expect(r.filter((x) => x.error).map((x) => x.raw)).toEqual(['"bad"x,1\n', '"multi\nline"x\n', 'ab"c,9\n', '10,"open\n11,12\n']);
    expect(r.at(-1)!.fatal).toBe(true);
  });

  it('reads the same records as csv-parse, however the bytes are split into chunks', async () => {
    // random valid CSV: quoted and unquoted fields, doubled quotes, delimiters and line ends inside
    // quotes, CRLF and LF records, empty fields and lines, unicode; compared with csv-parse
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const pieces = ['a', 'é', '😀', ',', '"', '\n', '\r\n', ' ', 'x y', '0', '-1.5'];
    const field = (): string => {
      let v = '';
      for (let k = rand(5); k > 0; k--) v += pieces[rand(pieces.length)];
      return /[",\r\n]/.test(v) || rand(4) === 0 ? `"${v.replaceAll('"', '""')}"` : v;
    };
    const { parse } = await import('csv-parse/sync');
    // csv-parse takes the first line end as every record's: one kind per document
    for (const [eol, size] of [['\n', 1], ['\r\n', 2], ['\n', 3], ['\r\n', 7], ['\n', 64], ['\r\n', 1 << 16]] as const) {
      let text = `c1,c2,c3${eol}`;
      for (let r = 0; r < 300; r++) {
        text += [field(), field(), field()].join(',') + eol;
        if (rand(20) === 0) text += eol;
      }
      const bytes = Buffer.from(text);
      const expected = (parse(bytes, { skip_empty_lines: true, relax_column_count: true }) as string[][]).slice(1);
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      const got = await records('csv', chunks);
      expect(got.filter((x) => x.error)).toEqual([]);
      expect(got.map((x) => x.values)).toEqual(expected);
    }
  });

  it('stops a file at a record longer than the limit (an unclosed quote), after the records before it', async () => {
    const { CsvScanner } = await import('../src/formats/csv-scan.js');
    const s = new CsvScanner({ delimiter: 0x2c, quote: 0x22, escape: 0x22 }, 1000);
    const got: { line: number; error?: string; fields: string[] }[] = [];
    const emit = (r: { firstLine: number; error?: string; fields: string[] }): number => got.push({ line: r.firstLine, fields: r.fields, ...(r.error ? { error: r.error } : {}) });
    s.push(Buffer.from('a,b\n1,"open\n'), emit);
    for (let i = 0; i < 100; i++) s.push(Buffer.from('more text,\n'), emit);
    s.end(emit);
    expect(got).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: [], error: 'CSV_RECORD_TOO_LONG' },
    ]);
  });

  it('reads CR-only line ends and a last record without one', async () => {
    const r = await records('csv', [Buffer.from('a,b\r1,"x\r'), Buffer.from('y"\r\r2,'), Buffer.from('3')]);
    expect(r.map((x) => [x.row, x.pos, x.values])).toEqual([[2, 3, ['1', 'x\ry']], [5, 5, ['2', '3']]]);
  });

  it('splits chunks anywhere, even inside a multi-byte character', async () => {
    const text = Buffer.from('a\né😀\n');
    const r = await records('csv', [...text].map((b) => Buffer.from([b])));
    expect(r.map((x) => x.values)).toEqual([['é😀']]);
  });

  it('reads TSV, headerless files, other delimiters and UTF-16 with a BOM', async () => {
    expect((await records('csv', Buffer.from('1;2\n'), { delimiter: ';', header: false }))[0]).toMatchObject({ names: ['column_1', 'column_2'], values: ['1', '2'] });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\nä,1\n', 'utf16le')]);
    expect((await records('csv', utf16))[0]!.values).toEqual(['ä', '1']);
  });
});

describe('CSV dialects and encodings', () => {
  const dialectOf = (env: Record<string, string>): CsvDialect => streamSpecs(loadConfig(fileKit.config, { env: { FILE_URL: 'file:///d', FILE_STREAMS: 's=*.csv', ...env } }).config)[0]!.csv;

  it('reads a custom quote and escape character set by FILE_CSV_QUOTE and FILE_CSV_ESCAPE', async () => {
    const csv = dialectOf({ FILE_CSV_QUOTE: "'", FILE_CSV_ESCAPE: '\\' });
    expect(csv).toMatchObject({ quote: "'", escape: '\\' });
    const r = await records('csv', Buffer.from("id,text\n1,'a, b'\n2,'it\\'s \"fine\"'\n3,'two\nlines'\n"), csv);
    expect(r.map((x) => x.error ?? x.values)).toEqual([['1', 'a, b'], ['2', 'it\'s "fine"'], ['3', 'two\nlines']]);
    // without FILE_CSV_ESCAPE the escape is the quote (doubling)
    expect(dialectOf({ FILE_CSV_QUOTE: "'" }).escape).toBe("'");
    expect((await records('csv', Buffer.from("id,text\n1,'it''s'\n"), dialectOf({ FILE_CSV_QUOTE: "'" })))[0]!.values).toEqual(['1', "it's"]);
  });

  it('reads a .tsv with the tab as its default delimiter, commas and quotes inside fields kept', async () => {
    expect(textFormat('auto', 'data/orders.tsv.gz', Buffer.from('id\tname\n'))).toBe('tsv');
    const r = await records('tsv', Buffer.from('id\tname\tnote\n1\tSmith, J.\t"quoted\ttab"\n2\tx\t\n'));
    expect(r.map((x) => [x.names, x.values])).toEqual([
      [['id', 'name', 'note'], ['1', 'Smith, J.', 'quoted\ttab']],
      [['id', 'name', 'note'], ['2', 'x', '']],
    ]);
  });

  it('drops a UTF-8 BOM, so the first column name is clean', async () => {
    const r = await records('csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,name\n1,Zoë\n')]));
    expect(r[0]).toMatchObject({ names: ['id', 'name'], values: ['1', 'Zoë'] });
  });

  it('decodes latin1 and windows-1252 bytes to the characters they stand for', async () => {
    const bytes = Buffer.from([...Buffer.from('id,name,price\n1,caf'), 0xe9, ...Buffer.from(','), 0x80, ...Buffer.from('5\n2,'), 0x93, ...Buffer.from('q'), 0x94, 0xdf, ...Buffer.from(',\n')]);
    for (const encoding of ['latin1', 'windows-1252']) {
      const r = await records('csv', bytes, dialectOf({ FILE_ENCODING: encoding }));
      expect(r.map((x) => x.error ?? x.values)).toEqual([['1', 'café', '€5'], ['2', '“q”ß', '']]);
    }
  });

  it('reports bytes a UTF-16 or Shift_JIS decoder cannot decode as bad records, keeping a real U+FFFD of the file', async () => {
    const utf16 = (t: string): Buffer => Buffer.from(t, 'utf16le');
    const lone = Buffer.from([0x00, 0xd8]); // an unpaired high surrogate
    const bytes = Buffer.concat([utf16('id,v\n1,ok\n2,'), lone, utf16('x\n3,\uFFFD\n4,end'), Buffer.from([0x41])]);
    // split in two chunks, the second beginning in the middle of a character
    const r = await records('csv', [bytes.subarray(0, 21), bytes.subarray(21)], { encoding: 'utf-16le' });
    expect(r.map((x) => [x.row, x.error ?? x.values])).toEqual([
      [2, ['1', 'ok']],
      [3, 'invalid utf-16le byte sequence'],
      [4, ['3', '\uFFFD']],
      [5, 'invalid utf-16le byte sequence'],
    ]);
    const sjis = Buffer.concat([Buffer.from('id,v\n1,'), Buffer.from([0x82, 0xa0]), Buffer.from('\n2,'), Buffer.from([0x82, 0x20]), Buffer.from('\n')]);
    expect((await records('csv', sjis, { encoding: 'shift_jis' })).map((x) => x.error ?? x.values)).toEqual([['1', 'あ'], 'invalid shift_jis byte sequence']);
    // one byte per chunk: characters split across chunks (GB18030's four-byte ones too) still decode
    const gb = Buffer.concat([Buffer.from('id,v\n1,'), Buffer.from([0x81, 0x30, 0x81, 0x30, 0xc4, 0xe3]), Buffer.from('\n')]);
    const bytewise = (b: Buffer): Buffer[] => [...b].map((x) => Buffer.from([x]));
    expect((await records('csv', bytewise(gb), { encoding: 'gb18030' })).map((x) => x.error ?? x.values)).toEqual([['1', '\u0080你']]);
    expect((await records('csv', bytewise(sjis), { encoding: 'shift_jis' })).map((x) => x.error ?? x.values)).toEqual([['1', 'あ'], 'invalid shift_jis byte sequence']);
  });
});

describe('the JSON readers', () => {
  it('read NDJSON lines, skipping blank ones, and report invalid lines with their number', async () => {
    const r = await records('ndjson', Buffer.from('{"a": 1}\n\n{"a": }\n{"a": 2}'));
    expect(r.map((x) => [x.row, x.error ? 'error' : x.names])).toEqual([[1, ['a']], [3, 'error'], [4, ['a']]]);
  });

  it('stream the elements of a JSON array and read a single object as one record', async () => {
    const arr = await records('json', [Buffer.from('[ {"a": "x,]"}, {"a'), Buffer.from('": [1, {"b": 2}]} ]')]);
    expect(arr.map((x) => x.values.length)).toEqual([1, 1]);
    const one = await records('json', Buffer.from('{\n  "a": 1\n}\n'));
    expect(one.map((x) => x.names)).toEqual([['a']]);
    const cut = await records('json', Buffer.from('[{"a": 1}, {"a"'));
    expect(cut.at(-1)).toMatchObject({ fatal: true });
  });
});

describe('decompression', () => {
  it('ends a truncated gzip stream with an error after the bytes that could be decoded', async () => {
    const gz = gzipSync(Buffer.from('id\n' + '1\n'.repeat(50_000)));
    const { compression, bytes } = await decompressed(Readable.from([gz.subarray(0, gz.length - 20)]));
    expect(compression).toBe('gzip');
    let got = 0;
    await expect((async () => {
      for await (const b of bytes) got += b.length;
    })()).rejects.toMatchObject({ name: 'TruncatedInput' });
    expect(got).toBeGreaterThan(0);
  });

  it('sniffs the format: a JSON array, NDJSON, one pretty object, CSV', () => {
    expect([textFormat('auto', 'a.json', Buffer.from('[{}]')), textFormat('auto', 'a.json', Buffer.from('{"a":1}\n{"a":2}\n')), textFormat('auto', 'a.json', Buffer.from('{\n "a": 1\n}')), textFormat('auto', 'a.dat', Buffer.from('a,b\n'))]).toEqual(['json', 'ndjson', 'json', 'csv']);
  });
});

describe('sniffing confirms the name', () => {
  const fmt = (path: string, text: string | Buffer, encoding?: string, configured: 'auto' | 'csv' = 'auto') => () => textFormat(configured, path, Buffer.isBuffer(text) ? text : Buffer.from(text), encoding);

  it('refuses JSON documents in a .csv or .tsv (also when the format is set), but keeps CSV headers that only look bracketed', () => {
    expect(fmt('a.csv', '{"id": 1}\n{"id": 2}\n')).toThrow('the content is JSON, not CSV');
    expect(fmt('a.tsv', '[\n  {"id": 1}\n]')).toThrow('the content is JSON, not TSV');
    expect(fmt('a.dat', '{\n  "id": 1\n}', undefined, 'csv')).toThrow('the content is JSON, not CSV');
    expect([fmt('a.csv', '[id],[name]\n1,x\n')(), fmt('a.csv', '{id},name\n1,x\n')(), fmt('a.tsv', 'a\tb\n')()]).toEqual(['csv', 'csv', 'tsv']);
  });

  it('refuses binary content in every text format, and text that is not JSON in a .json or .ndjson', () => {
    const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);
    for (const name of ['a.csv', 'a.tsv', 'a.ndjson', 'a.json', 'a.dat']) expect(fmt(name, binary)).toThrow(/^the content is binary, not (CSV|TSV|NDJSON|JSON|text)/);
    expect(fmt('a.ndjson', 'id,name\n1,x\n')).toThrow('the content is not NDJSON: it begins with neither { nor [');
    expect(fmt('a.json', 'id,name\n')).toThrow('the content is not JSON');
    expect(fmt('a.ndjson', '')()).toBe('ndjson');
  });

  it('decodes the head in the CSV encoding before judging it: UTF-16 without a BOM is text, latin1 accents are text', () => {
    expect(fmt('a.csv', Buffer.from('id,name\n1,Zoë\n', 'utf16le'), 'utf-16le')()).toBe('csv');
    expect(fmt('a.csv', Buffer.from('id,name\n1,Zo\xeb\n', 'latin1'), 'latin1')()).toBe('csv');
    // the same UTF-16 bytes read as UTF-8 are full of NULs
    expect(fmt('a.csv', Buffer.from('id,name\n1,Zoë\n', 'utf16le'))).toThrow('the content is binary, not CSV');
  });
});

describe('globs and streams', () => {
  it('lists only the static directory of a glob, as deep as it reaches', () => {
    expect(compileGlob('orders/2024-*/*.csv').scope).toEqual({ dir: 'orders/', depth: 1 });
    expect(compileGlob('events/**/*.ndjson').scope).toEqual({ dir: 'events/', depth: Infinity });
    expect(compileGlob('*.csv').matches('a b #1 100%.csv')).toBe(true);
    expect(scopesOf([compileGlob('a/**/*.csv'), compileGlob('a/b/*.csv')])).toEqual([{ dir: 'a/', depth: Infinity }]);
  });

  it('parses FILE_STREAMS, type overrides and primary keys', () => {
    const config = fileConfig.parse({ url: 'file:///d', streams: 'orders=orders/*.csv.gz;Order Lines=lines/*.csv', columnTypes: 'orders.amount=decimal(18,4),orders.id=int64', primaryKeys: 'Order Lines=order id+line' });
    const specs = streamSpecs(config);
    expect(specs.map((s) => [s.name, s.globs, s.overrides, s.primaryKey])).toEqual([
      ['orders', ['orders/*.csv.gz'], { amount: { decimal: [18, 4] }, id: 'int64' }, undefined],
      ['Order Lines', ['lines/*.csv'], {}, ['order id', 'line']],
    ]);
  });
});

describe('inference', () => {
  const infer = (values: string[], strings = false) => {
    const inf = new Inference(strings);
    for (const v of values) inf.add({ pos: 0, row: 0, names: ['c'], values: [v] }, 'text', (s) => s === '');
    return inf.columnsOf({})[0]!.type;
  };

  it('picks the narrowest type that holds every sampled value exactly, and widens on conflicts', () => {
    expect([infer(['1', '2']), infer(['1', '2.50']), infer(['1', '1e3']), infer(['1', 'x']), infer(['2024-01-01', '2024-01-01 10:00'])]).toEqual(['int64', { decimal: [38, 2] }, 'float64', 'string', 'string']);
    expect(infer(['0.14285714285714285', '1.5', '2'])).toBe('float64');
    expect(infer(['0.10', '123456789012345.25'])).toEqual({ decimal: [38, 2] });
    expect([infer(['9223372036854775808']), infer(['0.1', '12345678901234567890.5e1']), infer(['', '']), infer(['1'], true)]).toEqual([{ decimal: [38, 0] }, 'string', 'string', 'string']);
  });
});

describe('zip archives', () => {
  const collect = async (zip: Uint8Array): Promise<string> => {
    const { compression, bytes } = await decompressed(Readable.from([Buffer.from(zip)]));
    expect(compression).toBe('zip');
    const parts: Buffer[] = [];
    for await (const b of bytes) parts.push(b);
    return Buffer.concat(parts).toString('utf8');
  };

  it('reads the one file of an archive, and refuses an archive of two files as unreadable', async () => {
    expect(await collect(zipSync({ 'orders.csv': strToU8('id\n1\n2\n') }))).toBe('id\n1\n2\n');
    await expect(collect(zipSync({ 'a.csv': strToU8('id\n1\n'), 'b.csv': strToU8('id\n2\n') }))).rejects.toMatchObject({ name: 'UnreadableFile' });
  });
});
