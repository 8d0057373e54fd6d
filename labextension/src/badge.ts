/**
 * Run badges under tracked cells, rendered from `metadata.nbtrack` (so they come back on
 * reload) into a shadow root (see styles.ts). All run strings go in with textContent.
 */

import { Cell } from '@jupyterlab/cells';
import { CellList, NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';
import {
  BadgeState,
  ICellRunMetadata,
  METADATA_KEY,
  badgeLabel,
  badgeTitle,
  parseCellMetadata,
  statusClass
} from './format';
import { shadowContainer } from './styles';

export const BADGE_ROW_CLASS = 'nbtrack-badge-row';
export const BADGE_CLASS = 'nbtrack-badge';

/** Build a badge row (a shadow host) for one cell's last run. */
export function createBadge(
  meta: ICellRunMetadata,
  state: BadgeState,
  onClick: (runId: string) => void
): HTMLElement {
  const row = document.createElement('div');
  row.className = BADGE_ROW_CLASS;
  row.dataset.runId = meta.run_id;
  const line = shadowContainer(row, 'nbtrack-badge-line');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `${BADGE_CLASS} ${statusClass(meta.status)}`;
  if (state !== 'current') {
    button.classList.add(`nbtrack-${state}`);
  }
  button.dataset.runId = meta.run_id;
  button.dataset.state = state;
  button.textContent = badgeLabel(meta, state);
  button.title = badgeTitle(meta, state);
  button.addEventListener('click', event => {
    event.preventDefault();
    event.stopPropagation();
    onClick(meta.run_id);
  });
  line.appendChild(button);
  return row;
}

export class CellBadges implements IDisposable {
  constructor(panel: NotebookPanel, onClick: (runId: string) => void) {
    this._panel = panel;
    this._onClick = onClick;
    void panel.context.ready.then(() => {
      if (this._isDisposed) {
        return;
      }
      this._cells = panel.content.model?.cells ?? null;
      this._cells?.changed.connect(this._onCellsChanged, this);
      this.renderAll();
    });
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Re-render every cell's badge from its metadata. */
  renderAll(): void {
    for (const cell of this._panel.content.widgets) {
      this.render(cell);
    }
  }

  /** Mark whether a cell's badge shows its latest execution, and redraw it. */
  setState(cell: Cell, state: BadgeState): void {
    if (state === 'current') {
      this._states.delete(cell.model.id);
    } else {
      this._states.set(cell.model.id, state);
    }
    this.render(cell);
  }

  /** Re-render one cell's badge (removes it when the cell has no nbtrack metadata). */
  render(cell: Cell): void {
    if (cell.model.type !== 'code') {
      return;
    }
    const meta = parseCellMetadata(cell.model.getMetadata(METADATA_KEY));
    const state = this._states.get(cell.model.id) ?? 'current';
    void cell.ready.then(() => {
      if (this._isDisposed || cell.isDisposed) {
        return;
      }
      try {
        cell.node.querySelector(`:scope > .${BADGE_ROW_CLASS}`)?.remove();
        if (meta === null) {
          return;
        }
        const badge = createBadge(meta, state, this._onClick);
        const input = cell.node.querySelector(':scope > .jp-Cell-inputWrapper');
        if (input) {
          input.insertAdjacentElement('afterend', badge);
        } else {
          cell.node.appendChild(badge);
        }
      } catch (error) {
        console.warn('nbtrack: could not render a badge', error);
      }
    });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._cells?.changed.disconnect(this._onCellsChanged, this);
    this._cells = null;
  }

  private _onCellsChanged(): void {
    // New or moved cells: their widgets exist once this signal has been handled.
    requestAnimationFrame(() => {
      if (!this._isDisposed) {
        this.renderAll();
      }
    });
  }

  private _panel: NotebookPanel;
  private _onClick: (runId: string) => void;
  private _cells: CellList | null = null;
  private _states = new Map<string, BadgeState>();
  private _isDisposed = false;
}
