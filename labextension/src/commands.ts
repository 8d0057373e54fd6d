/**
 * Commands: "nbtrack: Open dashboard" inserts a `nbtrack.dashboard()` cell below the active
 * cell and runs it (a visible, re-runnable cell; the widget output is saved like any other).
 */

import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { CommandRegistry } from '@lumino/commands';

export const CommandIDs = {
  openDashboard: 'nbtrack:open-dashboard',
  showRuns: 'nbtrack:show-runs'
};

export const DASHBOARD_SOURCE = 'import nbtrack\nnbtrack.dashboard()';

export function addCommands(
  commands: CommandRegistry,
  tracker: INotebookTracker,
  showRuns: () => void
): void {
  commands.addCommand(CommandIDs.openDashboard, {
    label: 'nbtrack: Open dashboard',
    caption: 'Insert and run a nbtrack.dashboard() cell below the active cell',
    isEnabled: () => tracker.currentWidget !== null,
    execute: async () => {
      const panel = tracker.currentWidget;
      if (!panel) {
        return;
      }
      const notebook = panel.content;
      NotebookActions.insertBelow(notebook);
      const cell = notebook.activeCell;
      if (!cell) {
        return;
      }
      cell.model.sharedModel.setSource(DASHBOARD_SOURCE);
      await NotebookActions.run(notebook, panel.sessionContext);
    }
  });
  commands.addCommand(CommandIDs.showRuns, {
    label: 'nbtrack: Show runs',
    caption: 'Show the runs of the current notebook',
    execute: showRuns
  });
}
