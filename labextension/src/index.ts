import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { listIcon } from '@jupyterlab/ui-components';
import { CommandIDs, addCommands } from './commands';
import { RunsPanel } from './runsPanel';
import { TrackingRegistry } from './tracking';

/** nbtrack: live notebook snapshots for %%track, run badges, a Runs panel. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nbtrack:plugin',
  description: 'Live notebook snapshots for %%track, run badges and a Runs panel.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null
  ) => {
    const registry = new TrackingRegistry(tracker);
    const panel = new RunsPanel(tracker, registry);
    panel.title.icon = listIcon;
    app.shell.add(panel, 'left', { rank: 650 });
    addCommands(app.commands, tracker, () => app.shell.activateById(panel.id));
    palette?.addItem({ command: CommandIDs.openDashboard, category: 'nbtrack' });
    palette?.addItem({ command: CommandIDs.showRuns, category: 'nbtrack' });
  }
};

export default plugin;
