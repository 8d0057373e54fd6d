import {
  EXTENSION_VERSION,
  parseKernelMessage,
  parseRunDetails,
  parseRunSummary
} from '../protocol';
import pkg from '../../package.json';

describe('versions', () => {
  it('sends the package version in hello', () => {
    expect(EXTENSION_VERSION).toBe(pkg.version);
  });
});

describe('parseKernelMessage', () => {
  it('parses run_finished and drops a malformed headline', () => {
    expect(
      parseKernelMessage({
        type: 'run_finished',
        cell_id: 'c1',
        run_id: 'r1',
        status: 'FINISHED',
        experiment: 'lab',
        duration: 1.25,
        headline: { key: 'acc', value: 0.9 },
        extra: 'ignored'
      })
    ).toEqual({
      type: 'run_finished',
      cell_id: 'c1',
      run_id: 'r1',
      status: 'FINISHED',
      experiment: 'lab',
      duration: 1.25,
      headline: { key: 'acc', value: 0.9 }
    });
    const msg = parseKernelMessage({
      type: 'run_finished',
      cell_id: 'c1',
      run_id: 'r1',
      headline: { key: 'acc', value: 'high' }
    });
    expect(msg).toMatchObject({ status: 'UNKNOWN', headline: null, duration: null });
  });

  it('needs ids on run events', () => {
    expect(parseKernelMessage({ type: 'run_started', run_id: 'r' })).toBeNull();
    expect(parseKernelMessage({ type: 'run_finished', cell_id: 'c' })).toBeNull();
    expect(parseKernelMessage({ type: 'run_started', cell_id: 'c', run_id: 'r' })).toEqual({
      type: 'run_started',
      cell_id: 'c',
      run_id: 'r',
      experiment: null
    });
  });

  it('parses replies and keeps only well-formed runs', () => {
    const reply = parseKernelMessage({
      type: 'runs',
      request_id: 'q1',
      runs: [
        { run_id: 'a', status: 'FINISHED', start_time: 5, duration: null },
        { name: 'no id' },
        null
      ]
    });
    expect(reply).toEqual({
      type: 'runs',
      request_id: 'q1',
      runs: [
        {
          run_id: 'a',
          name: null,
          experiment: null,
          status: 'FINISHED',
          start_time: 5,
          end_time: null,
          duration: null,
          cell_id: null,
          headline: null
        }
      ]
    });
    expect(parseKernelMessage({ type: 'runs', request_id: 'q1' })).toBeNull();
    expect(parseKernelMessage({ type: 'error', request_id: 'q2', message: 'boom' })).toEqual({
      type: 'error',
      request_id: 'q2',
      message: 'boom'
    });
    expect(parseKernelMessage({ type: 'welcome', version: 1 })).toEqual({
      type: 'welcome',
      version: 1
    });
  });

  it('rejects unknown and malformed envelopes', () => {
    expect(parseKernelMessage(null)).toBeNull();
    expect(parseKernelMessage('run_finished')).toBeNull();
    expect(parseKernelMessage([])).toBeNull();
    expect(parseKernelMessage({ type: 'nope' })).toBeNull();
    expect(parseKernelMessage({ type: 'run', request_id: 'x', run: {} })).toBeNull();
  });
});

describe('run records', () => {
  it('keeps strings as strings (rendered as text later) and numbers finite', () => {
    const run = parseRunDetails({
      run_id: 'r',
      name: '<b>bold</b>',
      status: 'FINISHED',
      params: { lr: 0.1, model: '<script>', nothing: null },
      metrics: { acc: 0.9, bad: 'x', nan: null },
      tags: { team: 'ml', n: 3 },
      system_tags: { 'nbtrack.cell': 'c' },
      artifacts: [{ name: 'model.pkl', size: 10, kind: 'object' }, 'junk']
    });
    expect(run).not.toBeNull();
    expect(run!.name).toBe('<b>bold</b>');
    expect(run!.params).toEqual({ lr: 0.1, model: '<script>', nothing: null });
    expect(run!.metrics).toEqual({ acc: 0.9 });
    expect(run!.tags).toEqual({ team: 'ml', n: '3' });
    expect(run!.artifacts).toEqual([{ name: 'model.pkl', size: 10, kind: 'object' }]);
    expect(run!.notes).toBe('');
  });
  it('needs a run id', () => {
    expect(parseRunSummary({ status: 'FINISHED' })).toBeNull();
  });
});
