/**
 * The run details dialog (badge click, Runs panel click), filled from a `get_run` request
 * and rendered in a shadow root (see styles.ts). Every run string is set with textContent.
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { NbtrackChannel } from './channel';
import { formatDuration, formatMetricValue, statusClass } from './format';
import { IRunDetails } from './protocol';
import { shadowContainer } from './styles';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) {
    node.textContent = text;
  }
  if (className) {
    node.className = className;
  }
  return node;
}

function table(title: string, rows: [string, string][]): HTMLElement {
  const section = el('section', undefined, 'nbtrack-details-section');
  section.appendChild(el('h3', title));
  if (rows.length === 0) {
    section.appendChild(el('p', 'none', 'nbtrack-muted'));
    return section;
  }
  const t = el('table', undefined, 'nbtrack-details-table');
  for (const [k, v] of rows) {
    const tr = el('tr');
    tr.appendChild(el('th', k));
    tr.appendChild(el('td', v));
    t.appendChild(tr);
  }
  section.appendChild(t);
  return section;
}

function show(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value) ?? String(value);
}

function time(epoch: number | null): string {
  return epoch === null ? '—' : new Date(epoch * 1000).toLocaleString();
}

/** Fill `node` with a run's details. */
export function renderRunDetails(node: HTMLElement, run: IRunDetails): void {
  node.replaceChildren();
  const head = el('p', undefined, 'nbtrack-details-head');
  head.appendChild(el('span', run.status, `nbtrack-status ${statusClass(run.status)}`));
  head.appendChild(el('span', ` ${run.experiment ?? ''} / ${run.name ?? ''}`));
  node.appendChild(head);
  node.appendChild(
    table('Run', [
      ['run id', run.run_id],
      ['started', time(run.start_time)],
      ['ended', time(run.end_time)],
      ['duration', formatDuration(run.duration)],
      ...(run.parent_run_id ? [['parent', run.parent_run_id] as [string, string]] : [])
    ])
  );
  node.appendChild(
    table(
      'Metrics',
      Object.entries(run.metrics).map(([k, v]) => [k, formatMetricValue(v)])
    )
  );
  node.appendChild(
    table(
      'Parameters',
      Object.entries(run.params).map(([k, v]) => [k, show(v)])
    )
  );
  node.appendChild(table('Tags', Object.entries(run.tags)));
  if (run.notes) {
    node.appendChild(table('Notes', [['notes', run.notes]]));
  }
  node.appendChild(
    table(
      'Artifacts',
      run.artifacts.map(a => [a.name, `${a.kind ?? ''} ${a.size ?? ''}`.trim()])
    )
  );
  node.appendChild(table('nbtrack', Object.entries(run.system_tags)));
}

/** Open a dialog showing one run; errors are shown in the dialog, never thrown. */
export function showRunDetails(channel: NbtrackChannel, runId: string): void {
  const body = new Widget();
  body.addClass('nbtrack-details-host');
  const content = shadowContainer(body.node, 'nbtrack-details');
  content.appendChild(el('p', `Loading run ${runId}…`, 'nbtrack-muted'));
  channel
    .getRun(runId)
    .then(run => renderRunDetails(content, run))
    .catch((error: Error) => {
      content.replaceChildren(el('p', `Could not load run ${runId}: ${error.message}`, 'nbtrack-error'));
    });
  void showDialog({
    title: `nbtrack run ${runId.slice(0, 8)}`,
    body,
    buttons: [Dialog.okButton({ label: 'Close' })]
  }).catch(error => console.warn('nbtrack: dialog failed', error));
}
