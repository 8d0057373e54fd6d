/**
 * The kernel <-> frontend channel: comm target `nbtrack`, one envelope `{type, ...}`.
 * Mirrors docs/design.md and nbtrack/frontend/ (Python side).
 */

export const COMM_TARGET = 'nbtrack';
/**
 * 2: `hello` carries a `client` id and the kernel closes that client's older comms; a
 * snapshot counts only for the execution that follows it. 1: the first release.
 */
export const PROTOCOL_VERSION = 2;
/** The extension's version (sent in `hello`); kept equal to package.json's by a test. */
export const EXTENSION_VERSION = '0.1.0';

/** A run's headline metric (shown on badges and in the Runs panel). */
export interface IHeadline {
  key: string;
  value: number;
}

// ------------------------------------------------------------ frontend -> kernel

export interface IHello {
  type: 'hello';
  version: string;
  path: string;
  /** One id per notebook panel: the kernel keeps only the newest comm of each client. */
  client?: string;
}

export interface ICellScheduled {
  type: 'cell_scheduled';
  cell_id: string;
  path: string;
  notebook: Record<string, unknown>;
}

export interface IListRuns {
  type: 'list_runs';
  request_id: string;
  path: string;
}

export interface IGetRun {
  type: 'get_run';
  request_id: string;
  run_id: string;
}

export type FrontendMessage = IHello | ICellScheduled | IListRuns | IGetRun;

// ------------------------------------------------------------ kernel -> frontend

export interface IWelcome {
  type: 'welcome';
  version: number;
}

export interface IRunStarted {
  type: 'run_started';
  cell_id: string;
  run_id: string;
  experiment: string | null;
}

export interface IRunFinished {
  type: 'run_finished';
  cell_id: string;
  run_id: string;
  status: string;
  experiment: string | null;
  duration: number | null;
  headline: IHeadline | null;
}

/** One row of the Runs panel (`runs` reply). */
export interface IRunSummary {
  run_id: string;
  name: string | null;
  experiment: string | null;
  status: string;
  start_time: number | null;
  end_time: number | null;
  duration: number | null;
  cell_id: string | null;
  headline: IHeadline | null;
}

/** A run's details (`run` reply). */
export interface IRunDetails extends IRunSummary {
  parent_run_id: string | null;
  params: Record<string, unknown>;
  metrics: Record<string, number | null>;
  tags: Record<string, string>;
  system_tags: Record<string, string>;
  notes: string;
  artifacts: { name: string; size: number | null; kind: string | null }[];
}

export interface IRunsReply {
  type: 'runs';
  request_id: string;
  runs: IRunSummary[];
}

export interface IRunReply {
  type: 'run';
  request_id: string;
  run: IRunDetails;
}

export interface IErrorReply {
  type: 'error';
  request_id: string | null;
  message: string;
}

export type KernelMessage =
  | IWelcome
  | IRunStarted
  | IRunFinished
  | IRunsReply
  | IRunReply
  | IErrorReply;

export type ReplyMessage = IRunsReply | IRunReply | IErrorReply;

// ------------------------------------------------------------ parsing

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A headline `{key, value}` or null when malformed. */
export function parseHeadline(value: unknown): IHeadline | null {
  if (!isObj(value)) {
    return null;
  }
  const key = str(value.key);
  const v = num(value.value);
  return key !== null && v !== null ? { key, value: v } : null;
}

/** A Runs-panel row, or null when it lacks a run id. Unknown fields are dropped. */
export function parseRunSummary(value: unknown): IRunSummary | null {
  if (!isObj(value) || !str(value.run_id)) {
    return null;
  }
  return {
    run_id: value.run_id as string,
    name: str(value.name),
    experiment: str(value.experiment),
    status: str(value.status) ?? 'UNKNOWN',
    start_time: num(value.start_time),
    end_time: num(value.end_time),
    duration: num(value.duration),
    cell_id: str(value.cell_id),
    headline: parseHeadline(value.headline)
  };
}

function record<T>(value: unknown, pick: (v: unknown) => T | null): Record<string, T> {
  const out: Record<string, T> = {};
  if (isObj(value)) {
    for (const [k, v] of Object.entries(value)) {
      const parsed = pick(v);
      if (parsed !== null) {
        out[k] = parsed;
      }
    }
  }
  return out;
}

export function parseRunDetails(value: unknown): IRunDetails | null {
  const summary = parseRunSummary(value);
  if (summary === null || !isObj(value)) {
    return null;
  }
  const artifacts = Array.isArray(value.artifacts)
    ? value.artifacts.filter(isObj).map(a => ({
        name: str(a.name) ?? '',
        size: num(a.size),
        kind: str(a.kind)
      }))
    : [];
  return {
    ...summary,
    parent_run_id: str(value.parent_run_id),
    params: isObj(value.params) ? { ...value.params } : {},
    metrics: record(value.metrics, v => num(v)),
    tags: record(value.tags, v => (v === null || v === undefined ? null : String(v))),
    system_tags: record(value.system_tags, v =>
      v === null || v === undefined ? null : String(v)
    ),
    notes: str(value.notes) ?? '',
    artifacts
  };
}

/**
 * Validate a kernel -> frontend envelope. Returns null for anything malformed or of an
 * unknown type, so the dispatcher's `switch` only ever sees well-formed messages.
 */
export function parseKernelMessage(data: unknown): KernelMessage | null {
  if (!isObj(data)) {
    return null;
  }
  switch (data.type) {
    case 'welcome':
      return { type: 'welcome', version: num(data.version) ?? 0 };
    case 'run_started': {
      const cell_id = str(data.cell_id);
      const run_id = str(data.run_id);
      if (cell_id === null || run_id === null) {
        return null;
      }
      return { type: 'run_started', cell_id, run_id, experiment: str(data.experiment) };
    }
    case 'run_finished': {
      const cell_id = str(data.cell_id);
      const run_id = str(data.run_id);
      if (cell_id === null || run_id === null) {
        return null;
      }
      return {
        type: 'run_finished',
        cell_id,
        run_id,
        status: str(data.status) ?? 'UNKNOWN',
        experiment: str(data.experiment),
        duration: num(data.duration),
        headline: parseHeadline(data.headline)
      };
    }
    case 'runs': {
      const request_id = str(data.request_id);
      if (request_id === null || !Array.isArray(data.runs)) {
        return null;
      }
      const runs = data.runs
        .map(parseRunSummary)
        .filter((r): r is IRunSummary => r !== null);
      return { type: 'runs', request_id, runs };
    }
    case 'run': {
      const request_id = str(data.request_id);
      const run = parseRunDetails(data.run);
      if (request_id === null || run === null) {
        return null;
      }
      return { type: 'run', request_id, run };
    }
    case 'error':
      return {
        type: 'error',
        request_id: str(data.request_id),
        message: str(data.message) ?? 'unknown error'
      };
    default:
      return null;
  }
}
