import {
  badgeLabel,
  formatDuration,
  formatHeadline,
  formatMetricValue,
  formatRelativeTime,
  isTrackSource,
  loadsNbtrack,
  mentionsNbtrack,
  newClientId,
  notebookForKernel,
  pushesSnapshot,
  metadataFromFinished,
  metadataFromStarted,
  badgeTitle,
  parseCellMetadata,
  shortRunId,
  sortNewestFirst,
  statusClass
} from '../format';

describe('isTrackSource', () => {
  it('accepts cells that open with the %%track magic', () => {
    expect(isTrackSource('%%track experiment=lab\nx = 1')).toBe(true);
    expect(isTrackSource('%%track\nx = 1')).toBe(true);
    expect(isTrackSource('\n  %%track name=a\n')).toBe(true);
    expect(isTrackSource('%%track')).toBe(true);
    expect(isTrackSource('%%time\n%%track experiment=lab\nx = 1')).toBe(true);
    expect(isTrackSource('%%track\r\nx = 1')).toBe(true);
  });
  it('rejects other cells', () => {
    expect(isTrackSource('x = 1\n%%track')).toBe(false);
    expect(isTrackSource('%%tracker\n')).toBe(false);
    expect(isTrackSource('%track x')).toBe(false);
    expect(isTrackSource('# %%track')).toBe(false);
    expect(isTrackSource('%%time\nx = 1\n%%track')).toBe(false);
    expect(isTrackSource('%%timeit\n%%tracker')).toBe(false);
    expect(isTrackSource('')).toBe(false);
  });
});

describe('mentionsNbtrack', () => {
  it('spots nbtrack use', () => {
    expect(mentionsNbtrack('%load_ext nbtrack')).toBe(true);
    expect(mentionsNbtrack('import nbtrack as nt')).toBe(true);
    expect(mentionsNbtrack('import nbtrackers')).toBe(false);
  });
});

describe('loadsNbtrack', () => {
  it('spots the cells that (re)load the extension', () => {
    expect(loadsNbtrack('%load_ext nbtrack')).toBe(true);
    expect(loadsNbtrack('import os\n  %reload_ext nbtrack  # again\nx = 1')).toBe(true);
    expect(loadsNbtrack('%load_ext autoreload\nimport nbtrack')).toBe(false);
    expect(loadsNbtrack('# %load_ext nbtrack')).toBe(false);
    expect(loadsNbtrack('%load_ext nbtrackers')).toBe(false);
  });
});

describe('pushesSnapshot', () => {
  it('pushes for %%track cells and cells using nbtrack', () => {
    expect(pushesSnapshot('%%track\nx = 1')).toBe(true);
    expect(pushesSnapshot('with nbtrack.track(name="a"):\n    fit()')).toBe(true);
    expect(pushesSnapshot('%nbtrack')).toBe(true);
    expect(pushesSnapshot('%load_ext nbtrack\nimport nbtrack')).toBe(true);
  });
  it('does not push for cells that only load it, or do not use it', () => {
    expect(pushesSnapshot('%load_ext nbtrack')).toBe(false);
    expect(pushesSnapshot('%load_ext nbtrack\n%load_ext autoreload')).toBe(false);
    expect(pushesSnapshot('x = 1')).toBe(false);
    expect(pushesSnapshot('')).toBe(false);
  });
});

describe('newClientId', () => {
  it('differs between panels', () => {
    const ids = new Set(Array.from({ length: 50 }, () => newClientId()));
    expect(ids.size).toBe(50);
  });
  it('is built from the random source', () => {
    expect(newClientId(() => 0)).toBe('client-00000000000000');
    expect(newClientId(() => 0.5)).toMatch(/^client-[0-9a-z]{14}$/);
  });
});

describe('formatDuration', () => {
  it.each([
    [null, '—'],
    [undefined, '—'],
    [-1, '—'],
    [NaN, '—'],
    [0.4213, '0.42s'],
    [12.34, '12.3s'],
    [65, '1m 05s'],
    [3599.6, '1h 00m'],
    [7322, '2h 02m']
  ])('%p -> %p', (input, out) => {
    expect(formatDuration(input as number | null)).toBe(out);
  });
});

describe('formatMetricValue', () => {
  it.each([
    [0.931234, '0.9312'],
    [42, '42'],
    [-3, '-3'],
    [1234.5678, '1235'],
    [0.0001234, '1.234e-4'],
    [12345678.9, '1.235e+7'],
    [0, '0'],
    [null, '—'],
    [NaN, '—'],
    [Infinity, '∞'],
    [-Infinity, '-∞']
  ])('%p -> %p', (input, out) => {
    expect(formatMetricValue(input as number | null)).toBe(out);
  });
});

describe('badges', () => {
  const meta = {
    run_id: '0123456789abcdef',
    status: 'FINISHED',
    experiment: 'lab',
    duration: 1.5,
    headline: { key: 'acc', value: 0.93 }
  };
  it('shows run id prefix, status and headline', () => {
    expect(badgeLabel(meta)).toBe('nbtrack 01234567 · FINISHED · acc=0.93');
    expect(badgeLabel({ ...meta, headline: null })).toBe('nbtrack 01234567 · FINISHED');
    expect(formatHeadline(null)).toBe('');
    expect(shortRunId('abc')).toBe('abc');
  });
  it('says when a badge shows the previous run', () => {
    expect(badgeLabel(meta, 'current')).toBe(badgeLabel(meta));
    expect(badgeLabel(meta, 'pending')).toBe(
      'nbtrack 01234567 · FINISHED · acc=0.93 · waiting for the new run'
    );
    expect(badgeLabel(meta, 'outdated')).toBe(
      'nbtrack 01234567 · FINISHED · acc=0.93 · previous run'
    );
    expect(badgeTitle(meta, 'outdated')).toContain('without recording a run');
    expect(badgeTitle(meta)).not.toContain('previous run');
  });
  it('maps statuses to classes', () => {
    expect(statusClass('FINISHED')).toBe('nbtrack-status-finished');
    expect(statusClass('failed')).toBe('nbtrack-status-failed');
    expect(statusClass('<img src=x>')).toBe('nbtrack-status-unknown');
    expect(statusClass(null)).toBe('nbtrack-status-unknown');
  });
});

describe('cell metadata', () => {
  it('round-trips run_finished into metadata and back', () => {
    const meta = metadataFromFinished({
      type: 'run_finished',
      cell_id: 'c',
      run_id: 'r1',
      status: 'FAILED',
      experiment: null,
      duration: 2,
      headline: { key: 'loss', value: 0.5 }
    });
    expect(parseCellMetadata(JSON.parse(JSON.stringify(meta)))).toEqual(meta);
  });
  it('marks a started run RUNNING', () => {
    expect(
      metadataFromStarted({ type: 'run_started', cell_id: 'c', run_id: 'r2', experiment: 'e' })
    ).toEqual({ run_id: 'r2', status: 'RUNNING', experiment: 'e', duration: null, headline: null });
  });
  it('rejects malformed metadata', () => {
    expect(parseCellMetadata(undefined)).toBeNull();
    expect(parseCellMetadata({})).toBeNull();
    expect(parseCellMetadata({ run_id: '' })).toBeNull();
    expect(parseCellMetadata([1])).toBeNull();
    expect(parseCellMetadata({ run_id: 'x', status: 3, headline: { key: 'a' } })).toEqual({
      run_id: 'x',
      status: 'UNKNOWN',
      experiment: null,
      duration: null,
      headline: null
    });
  });
});

describe('runs', () => {
  it('sorts newest first, runs without a start time last', () => {
    const runs = [{ start_time: 1 }, { start_time: null }, { start_time: 3 }, { start_time: 2 }];
    expect(sortNewestFirst(runs).map(r => r.start_time)).toEqual([3, 2, 1, null]);
    expect(runs[0].start_time).toBe(1); // not sorted in place
  });
  it('formats relative times', () => {
    const now = 1_000_000 * 1000;
    expect(formatRelativeTime(1_000_000 - 10, now)).toBe('just now');
    expect(formatRelativeTime(1_000_000 - 600, now)).toBe('10 min ago');
    expect(formatRelativeTime(1_000_000 - 7200, now)).toBe('2 h ago');
    expect(formatRelativeTime(null, now)).toBe('');
  });
});

describe('notebookForKernel', () => {
  it('empties code outputs and widget state, keeps sources, ids and counts', () => {
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'python3' }, widgets: { state: 'big' } },
      cells: [
        {
          cell_type: 'code',
          id: 'a',
          source: '%%track\nx = 1',
          execution_count: 3,
          metadata: { nbtrack: { run_id: 'r' } },
          outputs: [{ output_type: 'display_data', data: { 'image/png': 'AAAA' } }]
        },
        { cell_type: 'markdown', id: 'b', source: '# hi', metadata: {} }
      ]
    };
    const out = notebookForKernel(nb) as any;
    expect(out.cells[0]).toEqual({ ...nb.cells[0], outputs: [] });
    expect(out.cells[1]).toEqual(nb.cells[1]);
    expect(out.metadata).toEqual({ kernelspec: { name: 'python3' } });
    expect(out.nbformat).toBe(4);
    expect(nb.cells[0].outputs).toHaveLength(1); // not mutated
    expect(nb.metadata.widgets).toBeDefined();
  });
  it('tolerates odd input', () => {
    expect(notebookForKernel({})).toEqual({ metadata: {}, cells: [] });
  });
});
