/**
 * The comm connector for one notebook panel: opens the `nbtrack` comm on the panel's kernel,
 * pushes `cell_scheduled` snapshots, sends requests and routes replies and run events.
 *
 * The comm is opened lazily (before a `%%track` cell's execute_request, before a request,
 * after a cell mentioning nbtrack ran) because the kernel only has the comm target after
 * `%load_ext nbtrack`; a kernel without it closes the comm at once, and we forget it.
 */

import { ISessionContext } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { newRequestId } from './format';
import {
  COMM_TARGET,
  EXTENSION_VERSION,
  FrontendMessage,
  IRunDetails,
  IRunFinished,
  IRunStarted,
  IRunSummary,
  KernelMessage as NbtrackMessage,
  ReplyMessage,
  parseKernelMessage
} from './protocol';

const REQUEST_TIMEOUT_MS = 30000;

interface IPending {
  resolve: (reply: ReplyMessage) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
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

  /** Emitted when the kernel welcomed the channel (nbtrack is loaded there). */
  get connected(): ISignal<this, void> {
    return this._connected;
  }

  get isConnected(): boolean {
    return this._comm !== null && this._welcomed;
  }

  get path(): string {
    return this._panel.context.path;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Open the comm if there is none (no-op without a kernel). Never throws. */
  ensureOpen(): Kernel.IComm | null {
    if (this._isDisposed) {
      return null;
    }
    if (this._comm && !this._comm.isDisposed) {
      return this._comm;
    }
    const kernel = this._panel.sessionContext.session?.kernel;
    if (!kernel) {
      return null;
    }
    try {
      const comm = kernel.createComm(COMM_TARGET);
      this._comm = comm;
      this._welcomed = false;
      comm.onMsg = msg => this._onMsg(comm, msg);
      comm.onClose = () => this._onClose(comm);
      comm.open({ type: 'hello', version: EXTENSION_VERSION, path: this.path });
      return comm;
    } catch (error) {
      console.warn('nbtrack: could not open the channel', error);
      this._comm = null;
      return null;
    }
  }

  /**
   * Push the live notebook for a scheduled `%%track` cell. Called synchronously from
   * `NotebookActions.executionScheduled`, i.e. before the cell's execute_request is sent.
   */
  cellScheduled(cellId: string, notebook: Record<string, unknown>): void {
    this._send({ type: 'cell_scheduled', cell_id: cellId, path: this.path, notebook });
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
    const comm = this._comm;
    this._forget('the notebook was closed');
    if (comm && !comm.isDisposed) {
      try {
        comm.close();
      } catch {
        // the kernel may already be gone
      }
    }
    Signal.clearData(this);
  }

  // ---------------------------------------------------------------- internals

  private _send(message: FrontendMessage): boolean {
    const comm = this.ensureOpen();
    if (!comm) {
      return false;
    }
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
      const timer = setTimeout(() => {
        this._pending.delete(request_id);
        reject(new Error('the kernel did not answer (busy, or nbtrack not loaded)'));
      }, REQUEST_TIMEOUT_MS);
      this._pending.set(request_id, { resolve, reject, timer });
      if (!this._send({ ...message, request_id } as FrontendMessage)) {
        this._settle(request_id, new Error('no kernel'));
      }
    }).then(reply => {
      if (reply.type === 'error') {
        throw new Error(reply.message);
      }
      return reply;
    });
  }

  private _settle(requestId: string | null, result: ReplyMessage | Error): void {
    if (requestId === null) {
      return;
    }
    const pending = this._pending.get(requestId);
    if (!pending) {
      return;
    }
    this._pending.delete(requestId);
    clearTimeout(pending.timer);
    if (result instanceof Error) {
      pending.reject(result);
    } else {
      pending.resolve(result);
    }
  }

  private _onMsg(comm: Kernel.IComm, msg: KernelMessage.ICommMsgMsg): void {
    if (comm !== this._comm) {
      return;
    }
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
          this._welcomed = true;
          this._connected.emit();
          break;
        case 'run_started':
          this._runStarted.emit(message);
          break;
        case 'run_finished':
          this._runFinished.emit(message);
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

  private _onClose(comm: Kernel.IComm): void {
    if (comm === this._comm) {
      this._forget('nbtrack is not loaded in this kernel (run %load_ext nbtrack)');
    }
  }

  /** Drop the comm and fail the requests waiting on it. */
  private _forget(reason: string): void {
    this._comm = null;
    this._welcomed = false;
    for (const id of Array.from(this._pending.keys())) {
      this._settle(id, new Error(reason));
    }
  }

  private _onKernelChanged(): void {
    this._forget('the kernel changed');
  }

  private _onStatusChanged(_: ISessionContext, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'dead' || status === 'autorestarting') {
      this._forget('the kernel restarted');
    }
  }

  private _onPathChanged(): void {
    if (this._comm && this._welcomed) {
      this._send({ type: 'hello', version: EXTENSION_VERSION, path: this.path });
    }
  }

  private _panel: NotebookPanel;
  private _comm: Kernel.IComm | null = null;
  private _welcomed = false;
  private _counter = 0;
  private _isDisposed = false;
  private _pending = new Map<string, IPending>();
  private _runStarted = new Signal<this, IRunStarted>(this);
  private _runFinished = new Signal<this, IRunFinished>(this);
  private _connected = new Signal<this, void>(this);
}
