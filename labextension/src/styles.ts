/**
 * The extension's styles, applied inside shadow roots.
 *
 * Notebook outputs may inject global CSS (a trusted HTML output's `<style>` applies to the
 * whole page: the dashboard's `.nbtrack-status { color: white }` once turned these labels
 * white on white). Every surface the extension draws (badges, the Runs panel, the run
 * dialog) renders into a shadow root, which page selectors do not reach; its own sheet
 * sets text and background colours explicitly from the theme's variables (custom
 * properties do cross the shadow boundary, so light and dark themes still apply).
 */

export const SHADOW_CSS = `
:host { display: block; }
:host([hidden]) { display: none; }

.nbtrack-root {
  color: var(--jp-ui-font-color1, #212121);
  font-family: var(--jp-ui-font-family, system-ui, sans-serif);
  font-size: var(--jp-ui-font-size1, 13px);
  line-height: 1.4;
  text-align: left;
}

.nbtrack-badge-line {
  padding: 2px 0 2px calc(var(--jp-cell-collapser-width, 8px) + var(--jp-cell-prompt-width, 64px));
}

.nbtrack-badge {
  font: inherit;
  font-family: var(--jp-code-font-family, monospace);
  font-size: var(--jp-ui-font-size0, 11px);
  line-height: 1.5;
  margin: 0;
  padding: 0 8px;
  border-radius: 8px;
  border: 1px solid var(--jp-border-color1, #bdbdbd);
  background: var(--jp-layout-color2, #eeeeee);
  color: var(--jp-ui-font-color1, #212121);
  cursor: pointer;
}
.nbtrack-badge:hover { background: var(--jp-layout-color3, #bdbdbd); }
.nbtrack-badge:focus-visible { outline: 2px solid var(--jp-brand-color1, #1976d2); }
.nbtrack-badge.nbtrack-pending,
.nbtrack-badge.nbtrack-outdated {
  border-style: dashed;
  color: var(--jp-ui-font-color2, #616161);
}

.nbtrack-status {
  display: inline-block;
  font-size: var(--jp-ui-font-size0, 11px);
  font-weight: 600;
  padding: 0 4px;
  border-radius: 4px;
  border: 1px solid var(--jp-border-color1, #bdbdbd);
  background: var(--jp-layout-color2, #eeeeee);
  color: var(--jp-ui-font-color1, #212121);
}

.nbtrack-status-finished { border-color: var(--jp-success-color1, #388e3c); }
.nbtrack-status-failed { border-color: var(--jp-error-color1, #d32f2f); }
.nbtrack-status-killed { border-color: var(--jp-warn-color1, #f57c00); }
.nbtrack-status-running { border-color: var(--jp-brand-color1, #1976d2); }

.nbtrack-runs {
  background: var(--jp-layout-color1, #ffffff);
  min-height: 100%;
  min-width: 200px;
}

.nbtrack-runs-header {
  display: flex;
  align-items: center;
  justify-content: space-between;
  padding: 4px 8px;
}

.nbtrack-runs-header h2 {
  font-size: var(--jp-ui-font-size2, 15px);
  font-weight: 600;
  margin: 4px 0;
}

.nbtrack-runs-refresh {
  display: inline-flex;
  align-items: center;
  border: none;
  background: transparent;
  color: inherit;
  padding: 2px;
  cursor: pointer;
  border-radius: 2px;
}
.nbtrack-runs-refresh:hover { background: var(--jp-layout-color2, #eeeeee); }
.nbtrack-runs-refresh svg { width: 16px; height: 16px; fill: currentColor; }

.nbtrack-muted,
.nbtrack-runs-notebook,
.nbtrack-runs-message {
  color: var(--jp-ui-font-color2, #616161);
  overflow-wrap: anywhere;
}
.nbtrack-runs-notebook,
.nbtrack-runs-message { padding: 0 8px 4px; }

.nbtrack-runs-list { list-style: none; margin: 0; padding: 0; }

.nbtrack-run {
  padding: 6px 8px;
  border-bottom: 1px solid var(--jp-border-color2, #e0e0e0);
  cursor: pointer;
}
.nbtrack-run:hover,
.nbtrack-run:focus { background: var(--jp-layout-color2, #eeeeee); outline: none; }

.nbtrack-run-top { display: flex; gap: 6px; align-items: baseline; }

.nbtrack-run-name {
  font-weight: 600;
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}

.nbtrack-run-facts {
  color: var(--jp-ui-font-color2, #616161);
  font-size: var(--jp-ui-font-size0, 11px);
  margin-top: 2px;
}

.nbtrack-details { min-width: 420px; max-height: 60vh; overflow-y: auto; }
.nbtrack-details h3 { font-size: var(--jp-ui-font-size1, 13px); font-weight: 600; margin: 10px 0 4px; }
.nbtrack-details p { margin: 4px 0; }
.nbtrack-details-table { border-collapse: collapse; }
.nbtrack-details-table th {
  text-align: left;
  font-weight: normal;
  color: var(--jp-ui-font-color2, #616161);
  padding: 0 12px 0 0;
  vertical-align: top;
}
.nbtrack-details-table td {
  color: var(--jp-ui-font-color1, #212121);
  font-family: var(--jp-code-font-family, monospace);
  overflow-wrap: anywhere;
  padding: 0;
}

.nbtrack-error { color: var(--jp-error-color1, #d32f2f); }
`;

let sharedSheet: CSSStyleSheet | null = null;

function sheet(): CSSStyleSheet | null {
  if (sharedSheet === null && typeof CSSStyleSheet !== 'undefined') {
    try {
      const created = new CSSStyleSheet();
      created.replaceSync(SHADOW_CSS);
      sharedSheet = created;
    } catch {
      sharedSheet = null; // no constructable stylesheets: a <style> per root instead
    }
  }
  return sharedSheet;
}

/**
 * Give `host` a shadow root styled with the extension's sheet and return the root's single
 * container (class `nbtrack-root` plus `className`), which callers fill.
 */
export function shadowContainer(host: HTMLElement, className: string): HTMLElement {
  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  root.replaceChildren();
  const shared = sheet();
  if (shared !== null && 'adoptedStyleSheets' in root) {
    root.adoptedStyleSheets = [shared];
  } else {
    const style = document.createElement('style');
    style.textContent = SHADOW_CSS;
    root.appendChild(style);
  }
  const container = document.createElement('div');
  container.className = `nbtrack-root ${className}`;
  root.appendChild(container);
  return container;
}
