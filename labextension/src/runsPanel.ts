/**
 * The left-sidebar "Runs" panel: the current notebook's runs, newest first, read through
 * the kernel channel (`list_runs`) and refreshed on `run_finished`. Rendered in a shadow
 * root (see styles.ts); one request at a time, a refresh asked for meanwhile follows it.
 */

import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { refreshIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { NbtrackChannel } from './channel';
import {
  formatDuration,
  formatHeadline,
  formatRelativeTime,
  shortRunId,
  sortNewestFirst,
  statusClass
} from './format';
import { IRunSummary } from './protocol';
import { showRunDetails } from './runDetails';
import { shadowContainer } from './styles';
import { TrackingRegistry } from './tracking';

export const RUNS_PANEL_ID = 'nbtrack-runs-panel';

/** One list item for a run (text only). */
export function createRunItem(run: IRunSummary, nowMs: number): HTMLLIElement {
  const li = document.createElement('li');
  li.className = 'nbtrack-run';
  li.dataset.runId = run.run_id;
  li.tabIndex = 0;
  const top = document.createElement('div');
  top.className = 'nbtrack-run-top';
  const status = document.createElement('span');
  status.className = `nbtrack-status ${statusClass(run.status)}`;
  status.textContent = run.status;
  const name = document.createElement('span');
  name.className = 'nbtrack-run-name';
  name.textContent = run.name || shortRunId(run.run_id);
  top.append(status, name);
  const bottom = document.createElement('div');
  bottom.className = 'nbtrack-run-facts';
  const facts = [
    shortRunId(run.run_id),
    run.experiment ?? '',
    formatDuration(run.duration),
    formatHeadline(run.headline),
    formatRelativeTime(run.start_time, nowMs)
  ].filter(Boolean);
  bottom.textContent = facts.join(' · ');
  li.append(top, bottom);
  return li;
}

export class RunsPanel extends Widget {
  constructor(tracker: INotebookTracker, registry: TrackingRegistry) {
    super();
    this.id = RUNS_PANEL_ID;
    this.addClass('nbtrack-runs-panel');
    this.title.caption = 'nbtrack: runs of this notebook';
    this._tracker = tracker;
    this._registry = registry;

    const root = shadowContainer(this.node, 'nbtrack-runs');
    const header = document.createElement('div');
    header.className = 'nbtrack-runs-header';
    const title = document.createElement('h2');
    title.textContent = 'Runs';
    this._refreshButton.type = 'button';
    this._refreshButton.className = 'nbtrack-runs-refresh';
    this._refreshButton.title = 'Refresh';
    refreshIcon.element({ container: this._refreshButton, tag: 'span' });
    this._refreshButton.addEventListener('click', this._onRefreshClick);
    header.append(title, this._refreshButton);
    this._subtitle.className = 'nbtrack-runs-notebook';
    this._message.className = 'nbtrack-runs-message';
    this._list.className = 'nbtrack-runs-list';
    this._list.addEventListener('click', this._onListClick);
    this._list.addEventListener('keydown', this._onListKey);
    root.append(header, this._subtitle, this._message, this._list);

    tracker.currentChanged.connect(this._onCurrentChanged, this);
    registry.added.connect(this._onTrackingAdded, this);
    this._follow(tracker.currentWidget);
  }

  /** Ask the current notebook's kernel for its runs (when the panel is visible). */
  refresh(): void {
    if (!this.isVisible) {
      this._stale = true;
      return;
    }
    this._stale = false;
    const channel = this._channel;
    const panel = this._panel;
    this._subtitle.textContent = panel ? panel.context.path : '';
    if (!channel) {
      this._show([], 'Open a notebook to see its runs.');
      return;
    }
    if (this._inFlight === channel) {
      this._again = true; // e.g. every run_finished of a Run All: one more request, after this
      return;
    }
    const ticket = ++this._ticket;
    this._inFlight = channel;
    this._again = false;
    if (!this._list.childElementCount) {
      this._message.textContent = 'Loading…';
    }
    channel
      .listRuns()
      .then(runs => {
        if (ticket === this._ticket) {
          this._show(runs, runs.length ? '' : 'No runs of this notebook yet.');
        }
      })
      .catch((error: Error) => {
        if (ticket === this._ticket) {
          this._show([], error.message);
        }
      })
      .then(() => {
        if (this._inFlight === channel) {
          this._inFlight = null;
          if (this._again && !this.isDisposed) {
            this.refresh();
          }
        }
      });
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._tracker.currentChanged.disconnect(this._onCurrentChanged, this);
    this._registry.added.disconnect(this._onTrackingAdded, this);
    this._follow(null);
    this._refreshButton.removeEventListener('click', this._onRefreshClick);
    this._list.removeEventListener('click', this._onListClick);
    this._list.removeEventListener('keydown', this._onListKey);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._stale) {
      this.refresh();
    }
  }

  private _show(runs: IRunSummary[], message: string): void {
    this._message.textContent = message;
    const now = Date.now();
    this._list.replaceChildren(...sortNewestFirst(runs).map(r => createRunItem(r, now)));
  }

  private _follow(panel: NotebookPanel | null): void {
    if (this._channel) {
      this._channel.runFinished.disconnect(this._onChannelEvent, this);
      this._channel.connected.disconnect(this._onChannelEvent, this);
    }
    this._panel = panel;
    this._channel = this._registry.get(panel)?.channel ?? null;
    this._list.replaceChildren();
    if (this._channel) {
      this._channel.runFinished.connect(this._onChannelEvent, this);
      this._channel.connected.connect(this._onChannelEvent, this);
    }
    this.refresh();
  }

  private _onCurrentChanged(_: INotebookTracker, panel: NotebookPanel | null): void {
    this._follow(panel);
  }

  private _onTrackingAdded(): void {
    if (!this._channel && this._tracker.currentWidget) {
      this._follow(this._tracker.currentWidget);
    }
  }

  private _onChannelEvent(): void {
    this.refresh();
  }

  private _onRefreshClick = (): void => {
    this._channel?.ensureOpen();
    this.refresh();
  };

  private _openItem(target: EventTarget | null): void {
    const item = (target as HTMLElement | null)?.closest?.('.nbtrack-run') as HTMLElement | null;
    const runId = item?.dataset.runId;
    if (runId && this._channel) {
      showRunDetails(this._channel, runId);
    }
  }

  private _onListClick = (event: MouseEvent): void => {
    this._openItem(event.target);
  };

  private _onListKey = (event: KeyboardEvent): void => {
    if (event.key === 'Enter') {
      this._openItem(event.target);
    }
  };

  private _tracker: INotebookTracker;
  private _registry: TrackingRegistry;
  private _panel: NotebookPanel | null = null;
  private _channel: NbtrackChannel | null = null;
  private _stale = true;
  private _ticket = 0;
  private _inFlight: NbtrackChannel | null = null;
  private _again = false;
  private _refreshButton = document.createElement('button');
  private _subtitle = document.createElement('div');
  private _message = document.createElement('div');
  private _list = document.createElement('ul');
}
