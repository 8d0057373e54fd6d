/**
 * Pure helpers: deciding which cells are tracked, formatting run facts, cell metadata.
 * No JupyterLab imports here, so they are unit-tested with plain jest.
 */

import { IHeadline, IRunFinished, IRunStarted, IRunSummary, parseHeadline } from './protocol';

/** The cell metadata key holding the last run of a tracked cell. */
export const METADATA_KEY = 'nbtrack';

/** What a tracked cell keeps in `metadata.nbtrack` (survives save and reload). */
export interface ICellRunMetadata {
  run_id: string;
  status: string;
  experiment: string | null;
  duration: number | null;
  headline: IHeadline | null;
}

/**
 * True when a cell's source is a `%%track` cell: `%%track` opens the cell, or is one of the
 * cell magics that open it (`%%time` above `%%track`), as the kernel side decides.
 */
export function isTrackSource(source: string): boolean {
  for (const line of source.replace(/^\s+/, '').split('\n')) {
    if (!line.startsWith('%%')) {
      return false;
    }
    if (/^%%track(\s|$)/.test(line)) {
      return true;
    }
  }
  return false;
}

/** True when a cell's source loads or uses nbtrack (worth (re)connecting the channel). */
export function mentionsNbtrack(source: string): boolean {
  return /\bnbtrack\b/.test(source);
}

const LOAD_LINE = /^\s*%(re)?load_ext\s+nbtrack\s*(#.*)?$/;

/** True when a cell (re)loads the extension: `%load_ext nbtrack` / `%reload_ext nbtrack`. */
export function loadsNbtrack(source: string): boolean {
  return source.split('\n').some(line => LOAD_LINE.test(line));
}

/**
 * True when a cell, scheduled to run, gets its own channel and the live notebook before its
 * execute_request: `%%track` cells and cells that use nbtrack (a `nbtrack.track()` run
 * records the same snapshot). Not a cell that only loads the extension: the kernel has no
 * `nbtrack` comm target before that cell ran, so the channel opens after it instead.
 */
export function pushesSnapshot(source: string): boolean {
  if (isTrackSource(source)) {
    return true;
  }
  return source
    .split('\n')
    .some(line => mentionsNbtrack(line) && !LOAD_LINE.test(line));
}

export function shortRunId(runId: string, length = 8): string {
  return runId.slice(0, length);
}

/** `0.42s`, `12.3s`, `4m 05s`, `1h 02m`; an em dash when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return '—';
  }
  if (seconds < 10) {
    return `${seconds.toFixed(2)}s`;
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)}s`;
  }
  const total = Math.round(seconds);
  if (total < 3600) {
    const m = Math.floor(total / 60);
    const s = total % 60;
    return `${m}m ${String(s).padStart(2, '0')}s`;
  }
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  return `${h}h ${String(m).padStart(2, '0')}m`;
}

/** A metric value with four significant digits, integers as they are. */
export function formatMetricValue(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return '—';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '∞' : '-∞';
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e15) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(3);
  }
  return String(Number(value.toPrecision(4)));
}

export function formatHeadline(headline: IHeadline | null | undefined): string {
  return headline ? `${headline.key}=${formatMetricValue(headline.value)}` : '';
}

/** `just now`, `5 min ago`, `3 h ago`, else the local date. */
export function formatRelativeTime(epochSeconds: number | null, nowMs: number): string {
  if (epochSeconds === null || !Number.isFinite(epochSeconds)) {
    return '';
  }
  const ago = Math.max(0, nowMs / 1000 - epochSeconds);
  if (ago < 45) {
    return 'just now';
  }
  if (ago < 3600) {
    return `${Math.round(ago / 60)} min ago`;
  }
  if (ago < 86400) {
    return `${Math.round(ago / 3600)} h ago`;
  }
  return new Date(epochSeconds * 1000).toLocaleString();
}

const KNOWN_STATUSES = ['RUNNING', 'FINISHED', 'FAILED', 'KILLED'];

/** A CSS class for a run status (`nbtrack-status-finished`, ...; unknown otherwise). */
export function statusClass(status: string | null | undefined): string {
  const s = (status ?? '').toUpperCase();
  return `nbtrack-status-${KNOWN_STATUSES.includes(s) ? s.toLowerCase() : 'unknown'}`;
}

/**
 * Whether a badge shows the cell's latest execution: `current`; `pending` while the cell is
 * queued or running and has not reported its new run yet; `outdated` when its last
 * execution ended without reporting one (nbtrack not loaded, the cell failed before
 * tracking, or it no longer starts with `%%track`): the badge then shows the previous run.
 */
export type BadgeState = 'current' | 'pending' | 'outdated';

const STATE_NOTES: Record<BadgeState, string> = {
  current: '',
  pending: 'waiting for the new run',
  outdated: 'previous run'
};

/** The badge's text: `nbtrack a1b2c3d4 · FINISHED · acc=0.93` (+ ` · previous run`). */
export function badgeLabel(meta: ICellRunMetadata, state: BadgeState = 'current'): string {
  const parts = [`nbtrack ${shortRunId(meta.run_id)}`, meta.status];
  const headline = formatHeadline(meta.headline);
  if (headline) {
    parts.push(headline);
  }
  if (STATE_NOTES[state]) {
    parts.push(STATE_NOTES[state]);
  }
  return parts.join(' · ');
}

export function badgeTitle(meta: ICellRunMetadata, state: BadgeState = 'current'): string {
  const lines = [`Run ${meta.run_id}`, `Status: ${meta.status}`];
  if (meta.experiment) {
    lines.push(`Experiment: ${meta.experiment}`);
  }
  if (meta.duration !== null) {
    lines.push(`Duration: ${formatDuration(meta.duration)}`);
  }
  if (state === 'pending') {
    lines.push('The cell runs again; this is its previous run until the new one starts.');
  } else if (state === 'outdated') {
    lines.push(
      'The cell ran again without recording a run (is nbtrack loaded?); this is its previous run.'
    );
  }
  lines.push('Click for details');
  return lines.join('\n');
}

/** Runs sorted newest first (by start time; runs without one last). */
export function sortNewestFirst<T extends Pick<IRunSummary, 'start_time'>>(runs: T[]): T[] {
  return [...runs].sort((a, b) => (b.start_time ?? -Infinity) - (a.start_time ?? -Infinity));
}

/** Cell metadata after a `run_started` (status RUNNING, no headline yet). */
export function metadataFromStarted(msg: IRunStarted): ICellRunMetadata {
  return {
    run_id: msg.run_id,
    status: 'RUNNING',
    experiment: msg.experiment,
    duration: null,
    headline: null
  };
}

export function metadataFromFinished(msg: IRunFinished): ICellRunMetadata {
  return {
    run_id: msg.run_id,
    status: msg.status,
    experiment: msg.experiment,
    duration: msg.duration,
    headline: msg.headline
  };
}

/** Read `metadata.nbtrack` as saved in a notebook; null when absent or malformed. */
export function parseCellMetadata(value: unknown): ICellRunMetadata | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return null;
  }
  const v = value as Record<string, unknown>;
  if (typeof v.run_id !== 'string' || !v.run_id) {
    return null;
  }
  return {
    run_id: v.run_id,
    status: typeof v.status === 'string' ? v.status : 'UNKNOWN',
    experiment: typeof v.experiment === 'string' ? v.experiment : null,
    duration: typeof v.duration === 'number' && Number.isFinite(v.duration) ? v.duration : null,
    headline: parseHeadline(v.headline)
  };
}

/** A fresh request id. */
export function newRequestId(counter: number, nowMs: number): string {
  return `nbtrack-${nowMs.toString(36)}-${counter}`;
}

/** An id for one notebook panel's channel (`hello.client`), unique in practice. */
export function newClientId(random: () => number = Math.random): string {
  const part = () => Math.floor(random() * 2 ** 32).toString(36).padStart(7, '0');
  return `client-${part()}${part()}`;
}

/**
 * The notebook as pushed in `cell_scheduled`: the live nbformat JSON with code-cell outputs
 * emptied and saved widget state dropped. The kernel snapshots sources only, and outputs
 * (images, plots, widget state) can be megabytes that would cross the websocket and sit in
 * kernel memory on every %%track run. Execution counts are kept. Does not mutate `nb`.
 */
export function notebookForKernel(nb: Record<string, unknown>): Record<string, unknown> {
  const cells = Array.isArray(nb.cells) ? nb.cells : [];
  const metadata =
    typeof nb.metadata === 'object' && nb.metadata !== null
      ? { ...(nb.metadata as Record<string, unknown>) }
      : {};
  delete metadata.widgets;
  return {
    ...nb,
    metadata,
    cells: cells.map(cell => {
      if (typeof cell !== 'object' || cell === null) {
        return cell;
      }
      const c = cell as Record<string, unknown>;
      return c.cell_type === 'code' ? { ...c, outputs: [] } : c;
    })
  };
}
