/**
 * Admits at most `perKey` tasks per key at a time; the rest wait in arrival order.
 * Sends to one group serialize on the group's row lock in PostgreSQL anyway: queueing
 * them here instead keeps blocked statements from holding pool connections that other
 * groups need, and spares the database waking every waiter on that row at each commit.
 */
export class KeyedGate {
  private readonly lanes = new Map<string, { active: number; waiting: Array<() => void> }>();

  constructor(private readonly perKey: number) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { active: 0, waiting: [] }));
    const own = lane;
    // A finishing task hands its slot straight to the next waiter.
    if (own.active >= this.perKey) await new Promise<void>((resolve) => own.waiting.push(resolve));
    else own.active++;
    try {
      return await task();
    } finally {
      const next = own.waiting.shift();
      if (next) next();
      else if (--own.active === 0) this.lanes.delete(key);
    }
  }
}
