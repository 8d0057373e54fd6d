/**
 * The comm connector for one notebook panel: opens `nbtrack` comms on the panel's kernel,
 * pushes `cell_scheduled` snapshots, sends requests and routes replies and run events.
 *
 * Each cell that pushes a snapshot opens a fresh comm right before its execute_request
 * (`hello`, then `cell_scheduled`, both sent synchronously from `executionScheduled`). The
 * kernel handles shell messages in order, so that comm_open is processed after every cell
 * scheduled before it, `%load_ext nbtrack` included, and after any restart or reload: no
 * earlier comm, possibly refused or closed meanwhile, is ever trusted with a snapshot. The
 * kernel (protocol 2) closes the older comms of the same client when a newer one opens;
 * run events are taken from the newest welcomed comm only, so none is handled twice.
 */

import { ISessionContext } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { CommRoster } from './comms';
import { newClientId, newRequestId } from './format';
import {
  COMM_TARGET,
  EXTENSION_VERSION,
  FrontendMessage,
  IHello,
  IRunDetails,
  IRunFinished,
  IRunStarted,
  IRunSummary,
  KernelMessage as NbtrackMessage,
  ReplyMessage,
  parseKernelMessage
} from './protocol';

const REQUEST_TIMEOUT_MS = 30000;
const NOT_LOADED = 'nbtrack is not loaded in this kernel (run %load_ext nbtrack)';

interface IPending {
  comm: Kernel.IComm;
  resolve: (reply: ReplyMessage) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Keep a comm on the kernel's main shell. JupyterLab >= 4.4 sends a comm's messages to a
 * kernel subshell (when the kernel has subshells, as ipykernel 7 does) once that subshell
 * exists; a subshell handles them at once, out of order with the queued execute_requests,
 * which is the order the snapshots rely on.
 */
function pinToMainShell(comm: Kernel.IComm): void {
  if ('commsOverSubshells' in comm) {
    (comm as { commsOverSubshells?: unknown }).commsOverSubshells = 'disabled';
  }
}

export class NbtrackChannel implements IDisposable {
  constructor(panel: NotebookPanel) {
    this._panel = panel;
    panel.sessionContext.kernelChanged.connect(this._onKernelChanged, this);
    panel.sessionContext.statusChanged.connect(this._onStatusChanged, this);
    panel.context.pathChanged.connect(this._onPathChanged, this);
  }

  /** A `%%track` run began in this notebook's kernel. */
  get runStarted(): ISignal<this, IRunStarted> {
    return this._runStarted;
  }

  /** A `%%track` run ended (the Runs panel and badges refresh on it). */
  get runFinished(): ISignal<this, IRunFinished> {
    return this._runFinished;
  }

  /** Emitted when the channel becomes connected (the kernel welcomed it). */
  get connected(): ISignal<this, void> {
    return this._connected;
  }

  /** A comm of this channel is open and welcomed by the kernel (nbtrack is loaded there). */
  get isConnected(): boolean {
    return this._comms.newestWelcomed() !== null;
  }

  /**
   * nbtrack is, or is about to be, loaded in this kernel: the kernel welcomed a comm, or a
   * `%load_ext nbtrack` cell was scheduled, since the kernel started.
   */
  get expectsNbtrack(): boolean {
    return this._expectsNbtrack || this.isConnected;
  }

  get path(): string {
    return this._panel.context.path;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The newest open comm, or a new one (null without a kernel). Never throws. */
  ensureOpen(): Kernel.IComm | null {
    return this._comms.newest() ?? this._open();
  }

  /** Open a new comm even if one is open (after `%load_ext nbtrack` ran). Never throws. */
  reconnect(): Kernel.IComm | null {
    return this._open();
  }

  /**
   * Open a comm once per kernel session when none is open: for a kernel that loads nbtrack
   * by configuration rather than `%load_ext` (a kernel without it refuses the comm).
   */
  probe(): void {
    if (!this._probed && this._comms.newest() === null) {
      this._probed = true;
      this._open();
    }
  }

  /** A `%load_ext nbtrack` cell was scheduled: later cells may expect the comm target. */
  loadScheduled(): void {
    this._expectsNbtrack = true;
  }

  /**
   * Push the live notebook for a scheduled cell on a new comm. Called synchronously from
   * `NotebookActions.executionScheduled`, i.e. before the cell's execute_request is sent.
   */
  cellScheduled(cellId: string, notebook: Record<string, unknown>): boolean {
    const comm = this._open();
    return (
      comm !== null &&
      this._sendOn(comm, { type: 'cell_scheduled', cell_id: cellId, path: this.path, notebook })
    );
  }

  async listRuns(): Promise<IRunSummary[]> {
    const reply = await this._request({ type: 'list_runs', path: this.path });
    if (reply.type !== 'runs') {
      throw new Error(`unexpected reply ${reply.type}`);
    }
    return reply.runs;
  }

  async getRun(runId: string): Promise<IRunDetails> {
    const reply = await this._request({ type: 'get_run', run_id: runId });
    if (reply.type !== 'run') {
      throw new Error(`unexpected reply ${reply.type}`);
    }
    return reply.run;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    const ctx = this._panel.sessionContext;
    ctx.kernelChanged.disconnect(this._onKernelChanged, this);
    ctx.statusChanged.disconnect(this._onStatusChanged, this);
    this._panel.context.pathChanged.disconnect(this._onPathChanged, this);
    const comms = this._comms.live();
    this._reset('the notebook was closed');
    for (const comm of comms) {
      try {
        comm.close();
      } catch {
        // the kernel may already be gone
      }
    }
    Signal.clearData(this);
  }

  // ---------------------------------------------------------------- internals

  private _hello(): IHello {
    return { type: 'hello', version: EXTENSION_VERSION, path: this.path, client: this._client };
  }

  private _open(): Kernel.IComm | null {
    const kernel = this._panel.sessionContext.session?.kernel;
    if (this._isDisposed || !kernel) {
      return null;
    }
    try {
      const comm = kernel.createComm(COMM_TARGET);
      pinToMainShell(comm);
      this._comms.add(comm);
      comm.onMsg = msg => this._onMsg(comm, msg);
      comm.onClose = () => this._onClose(comm);
      comm.open(this._hello() as any);
      return comm;
    } catch (error) {
      console.warn('nbtrack: could not open the channel', error);
      return null;
    }
  }

  private _sendOn(comm: Kernel.IComm, message: FrontendMessage): boolean {
    try {
      comm.send(message as any);
      return true;
    } catch (error) {
      console.warn('nbtrack: send failed', error);
      return false;
    }
  }

  private _request(
    message: { type: 'list_runs'; path: string } | { type: 'get_run'; run_id: string }
  ): Promise<ReplyMessage> {
    const request_id = newRequestId(++this._counter, Date.now());
    return new Promise<ReplyMessage>((resolve, reject) => {
      const comm = this.ensureOpen();
      if (comm === null) {
        reject(new Error('no kernel'));
        return;
      }
      const timer = setTimeout(() => {
        this._pending.delete(request_id);
        reject(new Error('the kernel did not answer (busy, or nbtrack not loaded)'));
      }, REQUEST_TIMEOUT_MS);
      this._pending.set(request_id, { comm, resolve, reject, timer });
      if (!this._sendOn(comm, { ...message, request_id } as FrontendMessage)) {
        this._settle(request_id, new Error('the message could not be sent'));
      }
    }).then(reply => {
      if (reply.type === 'error') {
        throw new Error(reply.message);
      }
      return reply;
    });
  }

  private _settle(requestId: string | null, result: ReplyMessage | Error): void {
    const pending = requestId === null ? undefined : this._pending.get(requestId);
    if (!pending) {
      return;
    }
    this._pending.delete(requestId as string);
    clearTimeout(pending.timer);
    if (result instanceof Error) {
      pending.reject(result);
    } else {
      pending.resolve(result);
    }
  }

  private _onMsg(comm: Kernel.IComm, msg: KernelMessage.ICommMsgMsg): void {
    let message: NbtrackMessage | null;
    try {
      message = parseKernelMessage(msg.content.data);
    } catch {
      message = null;
    }
    if (message === null) {
      return;
    }
    try {
      switch (message.type) {
        case 'welcome':
          this._onWelcome(comm, message.version);
          break;
        case 'run_started':
          if (comm === this._comms.newestWelcomed()) {
            this._runStarted.emit(message);
          }
          break;
        case 'run_finished':
          if (comm === this._comms.newestWelcomed()) {
            this._runFinished.emit(message);
          }
          break;
        case 'runs':
        case 'run':
        case 'error':
          this._settle(message.request_id, message);
          break;
      }
    } catch (error) {
      console.error('nbtrack: handling a kernel message failed', error);
    }
  }

  private _onWelcome(comm: Kernel.IComm, protocol: number): void {
    const { close, connected } = this._comms.welcome(comm, protocol);
    for (const old of close) {
      this._failRequestsOn(old, 'superseded');
      try {
        old.close();
      } catch {
        // already closed
      }
    }
    if (connected) {
      this._connected.emit();
    }
  }

  private _onClose(comm: Kernel.IComm): void {
    const welcomed = this._comms.remove(comm);
    this._failRequestsOn(comm, welcomed ? 'the kernel closed the channel' : NOT_LOADED);
  }

  private _failRequestsOn(comm: Kernel.IComm, reason: string): void {
    for (const [id, pending] of Array.from(this._pending)) {
      if (pending.comm === comm) {
        this._settle(id, new Error(reason));
      }
    }
  }

  /** Drop every comm and fail every request (kernel restarted, changed, or panel closed). */
  private _reset(reason: string): void {
    this._comms.clear();
    this._expectsNbtrack = false;
    this._probed = false;
    for (const id of Array.from(this._pending.keys())) {
      this._settle(id, new Error(reason));
    }
  }

  private _onKernelChanged(): void {
    this._reset('the kernel changed');
  }

  private _onStatusChanged(_: ISessionContext, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'dead' || status === 'autorestarting') {
      this._reset('the kernel restarted');
    }
  }

  private _onPathChanged(): void {
    const newest = this._comms.newestWelcomed();
    if (newest !== null) {
      this._sendOn(newest, this._hello());
    }
  }

  private _panel: NotebookPanel;
  private _client = newClientId();
  private _comms = new CommRoster<Kernel.IComm>();
  private _expectsNbtrack = false;
  private _probed = false;
  private _counter = 0;
  private _isDisposed = false;
  private _pending = new Map<string, IPending>();
  private _runStarted = new Signal<this, IRunStarted>(this);
  private _runFinished = new Signal<this, IRunFinished>(this);
  private _connected = new Signal<this, void>(this);
}
