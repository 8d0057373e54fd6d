import { CommRoster } from '../comms';

class FakeComm {
  constructor(readonly name: string) {}
  isDisposed = false;
}

function roster(...names: string[]): [CommRoster<FakeComm>, FakeComm[]] {
  const r = new CommRoster<FakeComm>();
  const comms = names.map(n => new FakeComm(n));
  comms.forEach(c => r.add(c));
  return [r, comms];
}

describe('CommRoster', () => {
  it('sends requests on the newest comm, welcomed or not', () => {
    const [r, [a, b]] = roster('a', 'b');
    expect(r.newest()).toBe(b);
    r.welcome(a, 2);
    expect(r.newest()).toBe(b);
    expect(new CommRoster<FakeComm>().newest()).toBeNull();
  });

  it('takes run events from the newest welcomed comm only', () => {
    // Run All: a comm per tracked cell, welcomed one after another by the kernel.
    const [r, [a, b, c]] = roster('a', 'b', 'c');
    expect(r.newestWelcomed()).toBeNull();
    expect(r.welcome(a, 2)).toEqual({ close: [], connected: true });
    expect(r.newestWelcomed()).toBe(a);
    expect(r.welcome(b, 2)).toEqual({ close: [], connected: false });
    expect(r.newestWelcomed()).toBe(b);
    expect(r.live()).toEqual([a, b, c]); // a protocol 2 kernel closes `a` itself
    r.remove(a);
    expect(r.live()).toEqual([b, c]);
    expect(r.newestWelcomed()).toBe(b);
  });

  it('closes older comms itself for a protocol 1 kernel', () => {
    const [r, [a, b, c]] = roster('a', 'b', 'c');
    const { close, connected } = r.welcome(b, 1);
    expect(close).toEqual([a]);
    expect(connected).toBe(true);
    expect(r.live()).toEqual([b, c]);
  });

  it('forgets comms a kernel restart disposed', () => {
    const [r, [a, b]] = roster('a', 'b');
    r.welcome(b, 2);
    b.isDisposed = true;
    expect(r.newestWelcomed()).toBeNull();
    expect(r.newest()).toBe(a);
    a.isDisposed = true;
    expect(r.newest()).toBeNull();
  });

  it('tells whether a closed comm had been welcomed (loaded) or refused', () => {
    const [r, [a, b]] = roster('a', 'b');
    r.welcome(b, 2);
    expect(r.remove(a)).toBe(false); // refused: nbtrack not loaded when it opened
    expect(r.remove(b)).toBe(true);
    expect(r.remove(b)).toBe(false);
    expect(r.welcome(b, 2)).toEqual({ close: [], connected: false }); // unknown comm
  });

  it('reports connected again after everything was cleared', () => {
    const [r, [a]] = roster('a');
    r.welcome(a, 2);
    r.clear();
    const b = new FakeComm('b');
    r.add(b);
    expect(r.welcome(b, 2).connected).toBe(true);
  });
});
