/**
 * Per-notebook wiring (channel + badges + cell metadata) and the registry that follows
 * notebook panels and the global NotebookActions signals.
 */

import { Cell } from '@jupyterlab/cells';
import { INotebookTracker, Notebook, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { CellBadges } from './badge';
import { NbtrackChannel } from './channel';
import {
  ICellRunMetadata,
  METADATA_KEY,
  isTrackSource,
  loadsNbtrack,
  mentionsNbtrack,
  metadataFromFinished,
  metadataFromStarted,
  notebookForKernel,
  pushesSnapshot
} from './format';
import { IRunFinished, IRunStarted } from './protocol';
import { showRunDetails } from './runDetails';

export class NotebookTracking implements IDisposable {
  constructor(panel: NotebookPanel) {
    this.panel = panel;
    this.channel = new NbtrackChannel(panel);
    this.badges = new CellBadges(panel, runId => showRunDetails(this.channel, runId));
    this.channel.runStarted.connect(this._onRunStarted, this);
    this.channel.runFinished.connect(this._onRunFinished, this);
  }

  readonly panel: NotebookPanel;
  readonly channel: NbtrackChannel;
  readonly badges: CellBadges;

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * A cell was scheduled (its execute_request follows synchronously). A `%%track` cell, or a
   * cell using nbtrack in a kernel where it is (about to be) loaded, pushes the live notebook
   * on a new comm; a tracked cell's badge waits for its new run.
   */
  onScheduled(cell: Cell): void {
    const source = cell.model.sharedModel.getSource();
    const cellId = cell.model.id;
    if (loadsNbtrack(source)) {
      this.channel.loadScheduled(); // the comm target exists only after this cell: no push
      return;
    }
    const tracked = isTrackSource(source);
    const model = this.panel.content.model;
    if (model && (tracked || (this.channel.expectsNbtrack && pushesSnapshot(source)))) {
      this.channel.cellScheduled(cellId, notebookForKernel(model.toJSON() as Record<string, unknown>));
    }
    if (tracked) {
      this._awaitingRun.add(cellId);
      this.badges.setState(cell, 'pending');
    }
  }

  /**
   * A cell finished. After `%load_ext nbtrack` connect (the Runs panel follows); a tracked
   * cell that reported no new run keeps its previous run's badge, marked as such.
   */
  onExecuted(cell: Cell): void {
    const source = cell.model.sharedModel.getSource();
    if (loadsNbtrack(source)) {
      this.channel.reconnect();
    } else if (mentionsNbtrack(source) && !this.channel.isConnected) {
      this.channel.probe(); // nbtrack may be loaded by configuration: ask once per kernel
    }
    if (this._awaitingRun.delete(cell.model.id)) {
      this.badges.setState(cell, 'outdated');
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.channel.runStarted.disconnect(this._onRunStarted, this);
    this.channel.runFinished.disconnect(this._onRunFinished, this);
    this.badges.dispose();
    this.channel.dispose();
  }

  private _onRunStarted(_: NbtrackChannel, msg: IRunStarted): void {
    this._awaitingRun.delete(msg.cell_id);
    this._setCellRun(msg.cell_id, metadataFromStarted(msg));
  }

  private _onRunFinished(_: NbtrackChannel, msg: IRunFinished): void {
    this._setCellRun(msg.cell_id, metadataFromFinished(msg));
  }

  /** Keep the run in the cell's metadata (saved with the notebook) and redraw its badge. */
  private _setCellRun(cellId: string, meta: ICellRunMetadata): void {
    const cell = this.panel.content.widgets.find(c => c.model.id === cellId);
    if (!cell) {
      return;
    }
    cell.model.setMetadata(METADATA_KEY, { ...meta } as any);
    this.badges.setState(cell, 'current');
  }

  private _awaitingRun = new Set<string>(); // tracked cells scheduled, no run_started yet
  private _isDisposed = false;
}

/** One NotebookTracking per open notebook panel. */
export class TrackingRegistry implements IDisposable {
  constructor(tracker: INotebookTracker) {
    this._tracker = tracker;
    tracker.widgetAdded.connect(this._onWidgetAdded, this);
    tracker.forEach(panel => this._add(panel));
    NotebookActions.executionScheduled.connect(this._onScheduled, this);
    NotebookActions.executed.connect(this._onExecuted, this);
  }

  /** Emitted when a notebook's tracking was created (the Runs panel follows it). */
  get added(): ISignal<this, NotebookTracking> {
    return this._added;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  get(panel: NotebookPanel | null | undefined): NotebookTracking | undefined {
    return panel ? this._byPanel.get(panel) : undefined;
  }

  forNotebook(notebook: Notebook): NotebookTracking | undefined {
    for (const tracking of this._byPanel.values()) {
      if (tracking.panel.content === notebook) {
        return tracking;
      }
    }
    return undefined;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._tracker.widgetAdded.disconnect(this._onWidgetAdded, this);
    NotebookActions.executionScheduled.disconnect(this._onScheduled, this);
    NotebookActions.executed.disconnect(this._onExecuted, this);
    for (const [panel, tracking] of this._byPanel) {
      panel.disposed.disconnect(this._onPanelDisposed, this);
      tracking.dispose();
    }
    this._byPanel.clear();
    Signal.clearData(this);
  }

  private _add(panel: NotebookPanel): void {
    if (this._byPanel.has(panel)) {
      return;
    }
    const tracking = new NotebookTracking(panel);
    this._byPanel.set(panel, tracking);
    panel.disposed.connect(this._onPanelDisposed, this);
    this._added.emit(tracking);
  }

  private _onWidgetAdded(_: INotebookTracker, panel: NotebookPanel): void {
    this._add(panel);
  }

  private _onPanelDisposed(panel: NotebookPanel): void {
    panel.disposed.disconnect(this._onPanelDisposed, this);
    this._byPanel.get(panel)?.dispose();
    this._byPanel.delete(panel);
  }

  private _onScheduled(_: unknown, args: { notebook: Notebook; cell: Cell }): void {
    try {
      this.forNotebook(args.notebook)?.onScheduled(args.cell);
    } catch (error) {
      console.error('nbtrack: cell_scheduled failed', error);
    }
  }

  private _onExecuted(_: unknown, args: { notebook: Notebook; cell: Cell }): void {
    try {
      this.forNotebook(args.notebook)?.onExecuted(args.cell);
    } catch (error) {
      console.error('nbtrack: executed handler failed', error);
    }
  }

  private _tracker: INotebookTracker;
  private _byPanel = new Map<NotebookPanel, NotebookTracking>();
  private _added = new Signal<this, NotebookTracking>(this);
  private _isDisposed = false;
}
