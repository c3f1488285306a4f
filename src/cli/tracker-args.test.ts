import { describe, expect, it } from 'vitest';
import { parseTrackerArgs, TrackerArgsError } from './tracker-args.js';

describe('parseTrackerArgs', () => {
  it('maps --key-with-dashes VALUE to config keys', () => {
    expect(
      parseTrackerArgs([
        '--listen',
        '127.0.0.1:0',
        '--db',
        'sqlite:/tmp/m.db',
        '--mogstored-stream-port',
        '7501',
        '--min_free_space=50',
        '--idle-timeout=0.5',
      ]),
    ).toEqual({
      listen: ['127.0.0.1:0'],
      db: ['sqlite:/tmp/m.db'],
      mogstored_stream_port: ['7501'],
      min_free_space: ['50'],
      idle_timeout: ['0.5'],
    });
  });

  it('repeats list options and knows the original short and old names', () => {
    expect(
      parseTrackerArgs([
        '-l',
        '10.0.0.1:7001',
        '--listen',
        '10.0.0.2',
        '-p',
        '7100',
        '--dsn',
        'DBI:mysql:mogilefs',
        '--dbuser',
        'u',
        '-w',
        '4',
        '--nojob_master',
      ]),
    ).toEqual({
      listen: ['10.0.0.1:7001', '10.0.0.2'],
      conf_port: ['7100'],
      db_dsn: ['DBI:mysql:mogilefs'],
      db_user: ['u'],
      query_jobs: ['4'],
      job_master: ['0'],
    });
  });

  it('takes flags without a value, or with a boolean word', () => {
    expect(parseTrackerArgs(['--no-schema-check', '--listen', 'x'])).toEqual({
      no_schema_check: ['1'],
      listen: ['x'],
    });
    expect(parseTrackerArgs(['--daemonize', 'no'])).toEqual({ daemonize: ['no'] });
    expect(parseTrackerArgs(['-d', '-d', '-d'])).toEqual({ debug: ['3'] });
    expect(parseTrackerArgs(['--debug', '2'])).toEqual({ debug: ['2'] });
  });

  it.each([[['--frobnicate', '1']], [['stray']], [['--listen']], [['---x']]])(
    'refuses %j',
    (args) => {
      expect(() => parseTrackerArgs(args)).toThrow(TrackerArgsError);
    },
  );
});
