// The nbtrack run table: an anywidget ESM module (the widget is RunTable in tableview.py).
//
// Python sends one `view` object per change: the controls' state and the visible page as
// column arrays. This module draws it and reports what the user does, either as a message
// ({type: "filter" | "sort" | "page" | ...}) or through the synced traits `selected`,
// `hovered`, `column_widths` and `hidden_columns`.
//
// Every string that comes from a run reaches the page through textContent, a Text node or an
// attribute value; nothing is ever parsed as HTML here.

const SELECT_WIDTH = 30;
const OPEN_WIDTH = 28;
const MIN_WIDTH = 40;
const DEFAULT_WIDTHS = { run_id: 96, name: 170, status: 88, start_time: 128, end_time: 128, duration: 70, experiment: 120 };
const VALUE_WIDTH = 96;
const STICKY = ["run_id", "name"]; // after the tick box and the detail button
const HOVER_REST_MS = 80;

// -- small helpers ----------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "style") Object.assign(el.style, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) el.append(child); // strings become Text nodes
  return el;
}

function cssName(column) {
  return "nbtrack-col-" + column.replace(/[^A-Za-z0-9]/g, "-");
}

function isMissing(value) {
  return value === null || value === undefined || value === "";
}

export function formatNumber(value) {
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const [mantissa, exponentText] = value.toExponential(3).split("e");
  const exponent = parseInt(exponentText, 10);
  if (exponent < -4 || exponent >= 4) {
    const digits = mantissa.replace(/\.?0+$/, "");
    return `${digits}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return value.toFixed(Math.max(0, 3 - exponent)).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

export function formatDuration(seconds) {
  if (typeof seconds !== "number") return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const pad = (n) => String(Math.floor(n)).padStart(2, "0");
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${pad(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h${pad((seconds % 3600) / 60)}m`;
}

export function formatTime(seconds) {
  if (typeof seconds !== "number") return "";
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
}

function fullTime(seconds) {
  const moment = new Date(seconds * 1000);
  return `${moment.toISOString()} (UTC)\n${moment.toString()}`;
}

function cellText(column, value) {
  if (isMissing(value)) return "";
  if (column.type === "time") return formatTime(value);
  if (column.type === "duration") return formatDuration(value);
  if (typeof value === "number") return formatNumber(value);
  return String(value);
}

function cellTitle(column, value) {
  if (isMissing(value)) return "";
  if (column.type === "time" && typeof value === "number") return fullTime(value);
  if (column.type === "duration" && typeof value === "number") return `${value} s`;
  return String(value);
}

function isBest(view, key, value) {
  const best = view.best[key];
  if (best === undefined || typeof value !== "number") return false;
  return Math.abs(value - best) <= Math.max(1e-15, Math.abs(best) * 1e-12);
}

async function copyText(text, fallbackNode) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (error) { // no clipboard access (an insecure origin): select it for Ctrl+C instead
    const range = document.createRange();
    range.selectNodeContents(fallbackNode);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return false;
  }
}

// -- the widget -----------------------------------------------------------------------------------

class RunTableView {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.seq = 0;
    this.collapsed = new Set();
    this.lastTicked = null;
    this.popover = null;
    this.reportedLoaded = null;
    this.build();
    model.send({ type: "ready" });
  }

  send(message) {
    this.seq += 1;
    this.el.classList.add("nbtrack-busy");
    this.model.send({ ...message, seq: this.seq });
  }

  setTrait(name, value) {
    this.model.set(name, value);
    this.model.save_changes();
  }

  // -- the fixed parts --------------------------------------------------------------------------
  build() {
    const el = this.el;
    el.classList.add("nbtrack-runtable");
    this.experimentsButton = h("button", { class: "nbtrack-experiments-toggle", type: "button",
      onclick: () => this.togglePopover("experiments") });
    this.filterInput = h("input", { type: "text", spellcheck: "false", autocomplete: "off",
      placeholder: "metrics.acc > 0.8 and params.model = 'rf'   (Enter to apply)",
      "aria-label": "filter runs" });
    this.filterEdited = false; // typed into since the last applied filter: a redraw must not undo it
    this.filterInput.addEventListener("input", () => { this.filterEdited = true; });
    this.filterInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.filterEdited = false;
        this.send({ type: "filter", text: this.filterInput.value });
      } else if (event.key === "Escape") {
        this.filterEdited = false;
        this.filterInput.value = this.view ? this.view.filter.text : "";
      }
      event.stopPropagation(); // keep Jupyter's command-mode shortcuts out of the box
    });
    this.statusButtons = h("span", { class: "nbtrack-statuses" });
    this.columnsButton = h("button", { class: "nbtrack-columns-toggle", type: "button", text: "columns…",
      onclick: () => this.togglePopover("columns") });
    this.refreshButton = h("button", { class: "nbtrack-refresh", type: "button", text: "⟳ refresh",
      title: "reload runs from the store", onclick: () => this.send({ type: "refresh" }) });
    this.autoRefresh = h("input", { type: "checkbox",
      onchange: (e) => this.send({ type: "option", name: "auto_refresh", value: e.target.checked }) });
    this.showDeleted = h("input", { type: "checkbox",
      onchange: (e) => this.send({ type: "option", name: "include_deleted", value: e.target.checked }) });
    this.statusLine = h("span", { class: "nbtrack-status-line" });
    this.popoverBox = h("div", { class: "nbtrack-popover", hidden: true });
    const toolbar = h("div", { class: "nbtrack-toolbar" },
      this.experimentsButton,
      h("span", { class: "nbtrack-filter" }, this.filterInput),
      this.statusButtons, this.columnsButton, this.refreshButton,
      h("label", { class: "nbtrack-auto-refresh", title: "reload every few seconds while a run is RUNNING" },
        this.autoRefresh, "auto-refresh while running"),
      h("label", { class: "nbtrack-show-deleted" }, this.showDeleted, "show deleted"),
      this.statusLine);
    this.filterError = h("div", { class: "nbtrack-filter-error", role: "alert" });
    this.filterHint = h("div", { class: "nbtrack-filter-hint" });
    this.message = h("div", { class: "nbtrack-message" });

    this.table = h("table", { class: "nbtrack-table" });
    this.scroller = h("div", { class: "nbtrack-scroll" }, this.table);
    this.empty = h("div", { class: "nbtrack-empty" });
    this.scroller.addEventListener("mouseleave", () => this.hover(""));

    this.prevButton = h("button", { class: "nbtrack-prev", type: "button", text: "‹ prev",
      onclick: () => this.send({ type: "page", index: this.view.page.index - 1 }) });
    this.nextButton = h("button", { class: "nbtrack-next", type: "button", text: "next ›",
      onclick: () => this.send({ type: "page", index: this.view.page.index + 1 }) });
    this.pageInput = h("input", { class: "nbtrack-page-input", type: "number", min: 1, "aria-label": "page" });
    this.pageInput.addEventListener("keydown", (event) => {
      event.stopPropagation();
      const wanted = parseInt(this.pageInput.value, 10);
      if (event.key === "Enter" && Number.isFinite(wanted)) this.send({ type: "page", index: wanted - 1 });
    });
    this.pageCount = h("span", { class: "nbtrack-page" });
    this.pageSize = h("select", { class: "nbtrack-page-size", "aria-label": "rows per page",
      onchange: (e) => this.send({ type: "page_size", size: parseInt(e.target.value, 10) }) });
    this.selection = h("span", { class: "nbtrack-selection" });
    this.clearButton = h("button", { class: "nbtrack-clear", type: "button", text: "clear selection",
      onclick: () => this.setSelected([]) });
    const pager = h("div", { class: "nbtrack-pager" }, this.prevButton, h("span", {}, "page "), this.pageInput,
      this.pageCount, this.nextButton, h("label", {}, "rows ", this.pageSize), this.selection, this.clearButton);

    el.replaceChildren(toolbar, this.popoverBox, this.filterError, this.filterHint, this.message,
      this.scroller, this.empty, pager);
    // A click on the table's buttons and tick boxes is the table's: Jupyter's notebook skips its
    // own mousedown work (activating the cell, moving focus) for an event whose default is
    // prevented, which costs more than the click itself. Text fields keep the default (focus).
    el.addEventListener("mousedown", (event) => {
      if (event.button === 0 && event.target.closest("button, input[type=checkbox], label, .nbtrack-resize")) {
        event.preventDefault();
      }
    });
    this.onDocumentClick = (event) => {
      if (this.popover && !this.popoverBox.contains(event.target) &&
          !event.target.closest(".nbtrack-experiments-toggle, .nbtrack-columns-toggle")) this.closePopover();
    };
    document.addEventListener("mousedown", this.onDocumentClick, true);
  }

  destroy() {
    clearTimeout(this.hoverTimer);
    document.removeEventListener("mousedown", this.onDocumentClick, true);
  }

  // -- drawing the view ---------------------------------------------------------------------------
  draw() {
    const view = this.model.get("view");
    if (!view || !view.page) return;
    this.view = view;
    this.el.classList.remove("nbtrack-busy");
    this.drawControls(view);
    this.drawTable(view);
    this.drawPager(view);
    if (this.popover) this.drawPopover();
    this.el.dataset.loaded = String(view.loaded);
    if (view.loaded !== this.reportedLoaded) {
      // once the rows are painted, tell the kernel: the panels (plots) redraw after that
      this.reportedLoaded = view.loaded;
      requestAnimationFrame(() => setTimeout(() => this.model.send({ type: "drawn", loaded: view.loaded }), 0));
    }
  }

  drawControls(view) {
    const chosen = view.experiments.chosen;
    this.experimentsButton.textContent = `experiments: ${chosen.length ? chosen.join(", ") : "all"} ▾`;
    this.experimentsButton.title = chosen.length ? chosen.join("\n") : "every experiment";
    if (!this.filterEdited) this.filterInput.value = view.filter.text; // unapplied typing wins until Enter/Esc
    this.filterInput.classList.toggle("nbtrack-invalid", Boolean(view.filter.error));
    this.statusButtons.replaceChildren(...view.statuses.all.map((status) => {
      const on = view.statuses.shown.includes(status);
      return h("button", {
        type: "button", "aria-pressed": on ? "true" : "false", title: `show ${status} runs`,
        class: `nbtrack-status-filter nbtrack-status-filter-${status.toLowerCase()}`, text: status.toLowerCase(),
        onclick: () => {
          const shown = view.statuses.all.filter((s) => (s === status ? !on : view.statuses.shown.includes(s)));
          this.send({ type: "statuses", shown });
        },
      });
    }));
    this.autoRefresh.checked = view.auto_refresh;
    this.showDeleted.checked = view.include_deleted;
    const running = view.running ? ` · ${view.running} running${view.auto_refresh ? ", auto-refreshing" : ""}` : "";
    this.statusLine.textContent = view.page.total === null ? "counting runs…"
      : `${view.page.total.toLocaleString("en-US")} ${view.grouped ? "top-level " : ""}runs${running}`;
    this.filterError.textContent = view.filter.error;
    this.filterError.hidden = !view.filter.error;
    this.filterHint.replaceChildren(...view.filter.unknown.map((unknown) => h("div", { class: "nbtrack-unknown-key" },
      h("span", { text: `no run has ${unknown.field}` }),
      unknown.suggestion ? h("span", {}, "; did you mean ",
        h("button", { type: "button", class: "nbtrack-suggestion", text: unknown.suggestion,
          title: "use this key", onclick: () => {
            this.filterEdited = false;
            this.send({ type: "use_suggestion", field: unknown.field, suggestion: unknown.suggestion });
          } }), "?") : null)));
    this.filterHint.hidden = !view.filter.unknown.length;
    this.message.textContent = view.message.text;
    this.message.className = `nbtrack-message ${view.message.error ? "nbtrack-error" : "nbtrack-info"}`;
    this.message.hidden = !view.message.text;
  }

  shownColumns(view) {
    const hidden = new Set(this.model.get("hidden_columns"));
    return view.columns.filter((column) => !hidden.has(column.key));
  }

  width(key) {
    const widths = this.model.get("column_widths") || {};
    return widths[key] || DEFAULT_WIDTHS[key] || VALUE_WIDTH;
  }

  drawTable(view) {
    const columns = this.shownColumns(view);
    this.columns = columns;
    const rows = view.rows;
    const count = rows.run_id.length;
    const selected = new Set(this.model.get("selected"));
    const hovered = this.model.get("hovered");

    const colgroup = h("colgroup", {}, h("col", { style: { width: `${SELECT_WIDTH}px` } }),
      h("col", { style: { width: `${OPEN_WIDTH}px` } }),
      ...columns.map((column) => h("col", { "data-column": column.key, style: { width: `${this.width(column.key)}px` } })));
    const pageIds = rows.run_id;
    const allTicked = count > 0 && pageIds.every((id) => selected.has(id));
    const tickAll = h("input", { type: "checkbox", title: "select every run on this page",
      onchange: () => this.tickPage(!allTicked) });
    tickAll.checked = allTicked;
    const headRow = h("tr", {},
      h("th", { class: "nbtrack-select-col nbtrack-sticky" }, tickAll),
      h("th", { class: "nbtrack-open-col nbtrack-sticky" }),
      ...columns.map((column) => this.headerCell(view, column)));
    const body = h("tbody", {});
    for (let i = 0; i < count; i++) body.append(this.row(view, columns, i, selected, hovered));
    this.table.replaceChildren(colgroup, h("thead", {}, headRow), body);
    this.layoutColumns();
    this.empty.textContent = count ? "" : (view.filter.text || view.statuses.shown.length < view.statuses.all.length
      ? "no runs match: change the filter or the statuses" : "no runs yet: track a cell with %%track, then refresh");
    this.empty.hidden = Boolean(count);
  }

  headerCell(view, column) {
    const sorted = view.sort.column === column.key;
    const label = column.label + (sorted ? (view.sort.desc ? " ▼" : " ▲") : "");
    const sort = h("button", { type: "button", text: label, class: `nbtrack-sort ${cssName(column.key)}`,
      title: `${column.key}: sort (click again to reverse)`, "aria-sort": sorted ? (view.sort.desc ? "descending" : "ascending") : null,
      onclick: () => this.send({ type: "sort", column: column.key }) });
    const hide = h("button", { type: "button", class: "nbtrack-hide", text: "×", title: `hide ${column.key}`,
      onclick: () => this.setTrait("hidden_columns", [...this.model.get("hidden_columns"), column.key]) });
    const grip = h("span", { class: "nbtrack-resize", title: "drag to resize" });
    grip.addEventListener("pointerdown", (event) => this.startResize(event, column.key));
    return h("th", { "data-column": column.key, class: `${column.numeric ? "num" : ""} ${sorted ? "nbtrack-sorted" : ""}${STICKY.includes(column.key) ? " nbtrack-sticky" : ""}` },
      sort, hide, grip);
  }

  row(view, columns, i, selected, hovered) {
    const rows = view.rows;
    const runId = rows.run_id[i];
    const depth = rows.depth ? rows.depth[i] : 0;
    const parent = rows.parent_run_id ? rows.parent_run_id[i] : null;
    const tick = h("input", { type: "checkbox", "aria-label": "select this run" });
    tick.checked = selected.has(runId);
    tick.addEventListener("click", (event) => this.tick(i, tick.checked, event.shiftKey));
    const open = h("button", { type: "button", class: "nbtrack-open", text: "i", title: "show this run's details",
      onclick: () => this.send({ type: "open", run_id: runId }) });
    const tr = h("tr", { class: "nbtrack-row", "data-run-id": runId },
      h("td", { class: "nbtrack-select nbtrack-sticky" }, tick),
      h("td", { class: "nbtrack-open-cell nbtrack-sticky" }, open),
      ...columns.map((column) => this.cell(view, column, rows[column.key] ? rows[column.key][i] : null, i)));
    if (depth > 0) {
      tr.classList.add("nbtrack-nested");
      if (parent && this.collapsed.has(parent)) tr.hidden = true;
    }
    if (rows.deleted && rows.deleted[i]) {
      tr.classList.add("nbtrack-deleted");
      tr.title = "deleted: open it and click restore";
    }
    if (runId === hovered) tr.classList.add("nbtrack-hovered");
    if (selected.has(runId)) tr.classList.add("nbtrack-selected");
    tr.addEventListener("mouseenter", () => this.hover(runId));
    return tr;
  }

  cell(view, column, value, i) {
    const key = column.key;
    const td = h("td", { "data-column": key, class: column.numeric ? "num" : "" });
    if (STICKY.includes(key)) td.classList.add("nbtrack-sticky");
    if (key === "run_id") {
      const id = h("code", { class: "nbtrack-runid", text: String(value), title: `run id ${value}` });
      const copy = h("button", { type: "button", class: "nbtrack-copy", text: "⧉", title: "copy the full run id",
        onclick: async () => { copy.textContent = (await copyText(String(value), id)) ? "✓" : "⧉"; } });
      td.append(h("div", { class: "nbtrack-idcell" }, id, copy));
      return td;
    }
    if (key === "status") {
      if (!isMissing(value)) {
        td.append(h("span", { class: `nbtrack-status nbtrack-status-${String(value).toLowerCase()}`, text: String(value) }));
      }
      return td;
    }
    const text = cellText(column, value);
    td.title = cellTitle(column, value);
    if (key === "name") {
      const rows = view.rows;
      const depth = rows.depth ? rows.depth[i] : 0;
      const nested = rows.nested ? rows.nested[i] : 0;
      if (depth > 0) td.append(h("span", { class: "nbtrack-branch", text: "└ " }));
      if (nested > 0) {
        const runId = rows.run_id[i];
        const open = !this.collapsed.has(runId);
        td.append(h("button", { type: "button", class: "nbtrack-expand", text: open ? "▾" : "▸",
          title: `${nested} nested run${nested > 1 ? "s" : ""}: ${open ? "fold" : "unfold"}`,
          onclick: () => { open ? this.collapsed.add(runId) : this.collapsed.delete(runId); this.drawTable(this.view); } }));
      }
      td.append(h("span", { text }));
      return td;
    }
    if (column.kind === "metrics" && isBest(view, key, value)) {
      td.append(h("span", { class: "nbtrack-best", title: `best ${column.label}`, text }));
    } else {
      td.append(text);
    }
    return td;
  }

  layoutColumns() {
    // fixed layout: the table is exactly as wide as its columns, sticky columns get their offsets
    let total = SELECT_WIDTH + OPEN_WIDTH;
    let left = SELECT_WIDTH + OPEN_WIDTH;
    const offsets = {};
    for (const column of this.columns) {
      if (STICKY.includes(column.key)) { offsets[column.key] = left; left += this.width(column.key); }
      total += this.width(column.key);
    }
    this.table.style.width = `${total}px`;
    for (const cell of this.table.querySelectorAll(".nbtrack-open-col, .nbtrack-open-cell")) cell.style.left = `${SELECT_WIDTH}px`;
    for (const [key, offset] of Object.entries(offsets)) {
      for (const cell of this.table.querySelectorAll(`[data-column="${key}"].nbtrack-sticky`)) cell.style.left = `${offset}px`;
    }
    const lastSticky = Object.keys(offsets).pop();
    for (const cell of this.table.querySelectorAll(".nbtrack-sticky-edge")) cell.classList.remove("nbtrack-sticky-edge");
    if (lastSticky) {
      for (const cell of this.table.querySelectorAll(`[data-column="${lastSticky}"].nbtrack-sticky`)) cell.classList.add("nbtrack-sticky-edge");
    }
  }

  startResize(event, key) {
    event.preventDefault();
    event.stopPropagation();
    const grip = event.target;
    grip.setPointerCapture(event.pointerId);
    const startX = event.clientX;
    const startWidth = this.width(key);
    const col = this.table.querySelector(`col[data-column="${key}"]`);
    let width = startWidth;
    const move = (e) => {
      width = Math.max(MIN_WIDTH, Math.round(startWidth + e.clientX - startX));
      col.style.width = `${width}px`;
      this.liveWidths = { ...(this.model.get("column_widths") || {}), [key]: width };
      this.model.set("column_widths", this.liveWidths);
      this.layoutColumns();
    };
    const up = () => {
      grip.removeEventListener("pointermove", move);
      grip.removeEventListener("pointerup", up);
      this.setTrait("column_widths", { ...(this.model.get("column_widths") || {}), [key]: width });
    };
    grip.addEventListener("pointermove", move);
    grip.addEventListener("pointerup", up);
  }

  // -- selection and hover --------------------------------------------------------------------------
  setSelected(ids) {
    this.setTrait("selected", ids);
    this.drawSelection();
  }

  tick(index, on, shift) {
    const ids = this.view.rows.run_id;
    const chosen = shift && this.lastTicked !== null ? ids.slice(Math.min(index, this.lastTicked), Math.max(index, this.lastTicked) + 1)
      : [ids[index]];
    this.lastTicked = index;
    const current = this.model.get("selected");
    const next = on ? [...current, ...chosen.filter((id) => !current.includes(id))]
      : current.filter((id) => !chosen.includes(id));
    this.setSelected(next);
  }

  tickPage(on) {
    const ids = this.view.rows.run_id;
    const current = this.model.get("selected");
    this.setSelected(on ? [...current, ...ids.filter((id) => !current.includes(id))] : current.filter((id) => !ids.includes(id)));
  }

  drawSelection() {
    if (!this.view) return;
    const selected = new Set(this.model.get("selected"));
    for (const tr of this.table.querySelectorAll("tbody tr")) {
      const on = selected.has(tr.dataset.runId);
      tr.classList.toggle("nbtrack-selected", on);
      const tick = tr.querySelector(".nbtrack-select input");
      if (tick) tick.checked = on;
    }
    const ids = this.view.rows.run_id;
    const tickAll = this.table.querySelector(".nbtrack-select-col input");
    if (tickAll) tickAll.checked = ids.length > 0 && ids.every((id) => selected.has(id));
    const count = selected.size;
    this.selection.textContent = count ? `${count} selected` : "none selected: plots show this page";
    this.clearButton.disabled = !count;
  }

  hover(runId) {
    // the row lights up at once; the kernel hears of it once the pointer rests (plots follow)
    clearTimeout(this.hoverTimer);
    for (const tr of this.table.querySelectorAll("tbody tr")) tr.classList.toggle("nbtrack-hovered", tr.dataset.runId === runId);
    this.hoverTimer = setTimeout(() => {
      if (this.model.get("hovered") !== runId) this.setTrait("hovered", runId);
    }, HOVER_REST_MS);
  }

  drawHover() {
    const hovered = this.model.get("hovered");
    for (const tr of this.table.querySelectorAll("tbody tr")) tr.classList.toggle("nbtrack-hovered", tr.dataset.runId === hovered);
  }

  // -- pager ---------------------------------------------------------------------------------------
  drawPager(view) {
    const page = view.page;
    const counted = page.total !== null; // null: the total is still being counted
    this.prevButton.disabled = page.index <= 0;
    this.nextButton.disabled = counted ? page.index >= page.count - 1 : view.rows.run_id.length < page.size;
    this.pageInput.value = String(page.index + 1);
    this.pageInput.max = counted ? String(page.count) : "";
    this.pageCount.textContent = counted
      ? ` of ${page.count.toLocaleString("en-US")} · ${page.total.toLocaleString("en-US")} runs` : " of … · counting runs…";
    this.pageSize.replaceChildren(...page.sizes.map((size) => {
      const option = h("option", { value: size, text: String(size) });
      option.selected = size === page.size;
      return option;
    }));
    this.drawSelection();
  }

  // -- popovers: experiments and columns -----------------------------------------------------------
  togglePopover(which) {
    if (this.popover === which) this.closePopover();
    else { this.popover = which; this.drawPopover(); }
  }

  closePopover() {
    this.popover = null;
    this.popoverBox.hidden = true;
    this.popoverBox.replaceChildren();
  }

  drawPopover() {
    const view = this.view;
    this.popoverBox.hidden = false;
    this.popoverBox.className = `nbtrack-popover nbtrack-${this.popover}`;
    if (this.popover === "experiments") {
      const chosen = new Set(view.experiments.chosen);
      const items = view.experiments.options.map((name) => {
        const box = h("input", { type: "checkbox", onchange: () => {
          const next = view.experiments.options.filter((n) => (n === name ? box.checked : chosen.has(n)));
          this.send({ type: "experiments", chosen: next });
        } });
        box.checked = chosen.has(name);
        return h("label", { class: "nbtrack-choice" }, box, name);
      });
      const all = h("button", { type: "button", text: "all experiments", onclick: () => this.send({ type: "experiments", chosen: [] }) });
      this.popoverBox.replaceChildren(all, ...(items.length ? items : [h("i", { text: "no experiments yet" })]));
      return;
    }
    const hidden = new Set(this.model.get("hidden_columns"));
    const shown = new Set(view.columns.map((c) => c.key));
    const sections = [];
    for (const [kind, title] of [["attributes", "run"], ["params", "params"], ["metrics", "metrics"], ["tags", "tags"]]) {
      const columns = view.available.filter((c) => c.kind === kind);
      if (!columns.length) continue;
      sections.push(h("div", { class: "nbtrack-choice-title", text: title }));
      for (const column of columns) {
        const box = h("input", { type: "checkbox", "data-column": column.key,
          onchange: () => this.chooseColumn(column, box.checked) });
        box.checked = shown.has(column.key) && !hidden.has(column.key);
        const label = h("label", { class: "nbtrack-choice", title: column.key }, box, column.label);
        if (kind === "metrics") {
          const direction = view.directions[column.label] || "max";
          label.append(h("button", { type: "button", class: "nbtrack-direction", "data-metric": column.label,
            text: direction === "max" ? "↑ higher is better" : "↓ lower is better",
            title: "which way is better (for the highlight and the first sort click)",
            onclick: (event) => { event.preventDefault(); this.send({ type: "direction", metric: column.label, direction: direction === "max" ? "min" : "max" }); } }));
        }
        sections.push(label);
      }
    }
    const reset = h("button", { type: "button", class: "nbtrack-columns-default", text: "default columns",
      onclick: () => { this.setTrait("hidden_columns", []); this.send({ type: "columns_default" }); } });
    this.popoverBox.replaceChildren(reset, ...sections);
  }

  chooseColumn(column, on) {
    if (column.kind === "attributes") {
      const hidden = this.model.get("hidden_columns").filter((key) => key !== column.key);
      this.setTrait("hidden_columns", on ? hidden : [...hidden, column.key]);
      this.drawTable(this.view);
      return;
    }
    const hidden = this.model.get("hidden_columns");
    if (on && hidden.includes(column.key)) this.setTrait("hidden_columns", hidden.filter((key) => key !== column.key));
    const chosen = this.view.chosen.filter((key) => key !== column.key);
    this.send({ type: "columns", chosen: on ? [...chosen, column.key] : chosen });
  }
}

function render({ model, el }) {
  const view = new RunTableView(model, el);
  const draw = () => view.draw();
  const redrawTable = () => { if (view.view) view.drawTable(view.view); };
  const selection = () => view.drawSelection();
  const hover = () => view.drawHover();
  model.on("change:view", draw);
  model.on("change:hidden_columns", redrawTable);
  model.on("change:selected", selection);
  model.on("change:hovered", hover);
  draw();
  return () => {
    model.off("change:view", draw);
    model.off("change:hidden_columns", redrawTable);
    model.off("change:selected", selection);
    model.off("change:hovered", hover);
    view.destroy();
  };
}

export default { render };
