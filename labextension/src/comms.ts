/**
 * Which of a channel's comms is which: the bookkeeping behind NbtrackChannel, kept free of
 * JupyterLab imports so it is unit-tested with plain jest.
 *
 * Comms are kept oldest first. A comm's open is processed by the kernel after everything
 * sent before it (shell order), so once the kernel welcomed comm N, whatever was sent on
 * older comms has been handled and answered: they can go. Run events are taken from the
 * newest welcomed comm only (a kernel of protocol 1 sends them on every open comm).
 */

/** What the roster needs of a comm (`Kernel.IComm` has it). */
export interface ICommLike {
  readonly isDisposed: boolean;
}

interface IEntry<C> {
  comm: C;
  welcomed: boolean;
}

export class CommRoster<C extends ICommLike> {
  /** Add a comm just opened (the newest). */
  add(comm: C): void {
    this._entries.push({ comm, welcomed: false });
  }

  /** Open comms, oldest first (a kernel restart disposes comms without a close message). */
  live(): C[] {
    this._entries = this._entries.filter(entry => !entry.comm.isDisposed);
    return this._entries.map(entry => entry.comm);
  }

  /** The newest open comm: requests go there (its open precedes them on the shell). */
  newest(): C | null {
    const live = this.live();
    return live.length ? live[live.length - 1] : null;
  }

  /** The newest comm the kernel welcomed: the one whose run events count. */
  newestWelcomed(): C | null {
    this.live();
    for (let i = this._entries.length - 1; i >= 0; i--) {
      if (this._entries[i].welcomed) {
        return this._entries[i].comm;
      }
    }
    return null;
  }

  isWelcomed(comm: C): boolean {
    return this._entries.some(entry => entry.comm === comm && entry.welcomed);
  }

  /**
   * The kernel welcomed `comm`. Returns the older comms the frontend must close itself (a
   * protocol 1 kernel keeps every comm; from protocol 2 the kernel closes them), already
   * dropped from the roster, and whether the channel just became connected.
   */
  welcome(comm: C, protocol: number): { close: C[]; connected: boolean } {
    const wasConnected = this.newestWelcomed() !== null;
    const index = this._entries.findIndex(entry => entry.comm === comm);
    if (index < 0) {
      return { close: [], connected: false };
    }
    this._entries[index].welcomed = true;
    let close: C[] = [];
    if (protocol < 2) {
      close = this._entries.slice(0, index).map(entry => entry.comm);
      this._entries = this._entries.slice(index);
    }
    return { close, connected: !wasConnected };
  }

  /** Drop a comm (closed by the kernel); returns whether the kernel had welcomed it. */
  remove(comm: C): boolean {
    const welcomed = this.isWelcomed(comm);
    this._entries = this._entries.filter(entry => entry.comm !== comm);
    return welcomed;
  }

  clear(): void {
    this._entries = [];
  }

  private _entries: IEntry<C>[] = [];
}
