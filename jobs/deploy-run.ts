// One worker run's hold on a deploy. The run owns the deploy while the record's runToken is its token
// and its BullMQ lock is alive; it loses it when BullMQ cannot renew the lock, when the lock has not
// been renewed for most of its duration (Redis unreachable: by then another worker may take over),
// when another run has taken the record over, or when a fenced write is refused. Losing it aborts
// `signal` (the step's process group is killed at once) and every later write throws LostRunError.
import { FencedError, isFinal, type DeployRecord, type DeployStore } from '../src/deploys/deploy-store.js';
import type { Deps } from '../src/deps.js';

/** This run no longer owns the deploy: it must stop and write nothing more. */
export class LostRunError extends Error {
  constructor(readonly deployId: string, reason: string) {
    super(`deploy ${deployId}: this worker run lost it (${reason})`);
    this.name = 'LostRunError';
  }
}

// The run gives up on its own once the lock has gone unrenewed for this share of the lock duration.
// BullMQ renews every quarter to half of it, and no other worker can pick the job up before all of
// it has passed, so the step is dead before anyone can resume it (given sane clocks and no long pauses).
const LEASE_SHARE = 0.75;

export class DeployRun {
  private readonly controller = new AbortController();
  private renewedAt = Date.now();
  private checking = false;
  private claimed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly deployId: string,
    readonly token: string,
    private readonly opts: { store: DeployStore; lockDuration: number; log: Deps['log'] },
  ) {
    this.timer = setInterval(() => this.watch(), Math.max(50, Math.floor(opts.lockDuration / 4)));
    this.timer.unref();
  }

  /** Aborted when the run loses the deploy; the step runner kills its process group on it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.controller.signal.aborted;
  }

  /** BullMQ renewed the job lock ('locksRenewed'). */
  renewed(): void {
    this.renewedAt = Date.now();
  }

  lose(reason: string): void {
    if (this.lost) return;
    this.opts.log.warn({ deployId: this.deployId, reason }, 'worker run lost the deploy: its step is killed and it writes nothing more');
    this.controller.abort(new LostRunError(this.deployId, reason));
  }

  /** Throws LostRunError once the run has lost the deploy (its lease counts as lost once it ran out). */
  check(): void {
    if (!this.lost && Date.now() - this.renewedAt > this.opts.lockDuration * LEASE_SHARE) this.lose('job lock not renewed in time');
    if (this.lost) throw this.controller.signal.reason as LostRunError;
  }

  /**
   * Takes the deploy over (the one unfenced write): from now on every write of a run that held it before
   * is refused. Returns the record as this run took it, or undefined when the deploy has ended already.
   */
  async claim(): Promise<DeployRecord | undefined> {
    this.check();
    const record = await this.opts.store.update(this.deployId, (r) => {
      if (isFinal(r.status)) return false;
      r.runToken = this.token;
    });
    if (record.runToken !== this.token) return undefined;
    this.claimed = true;
    return record;
  }

  /** A write fenced by this run: refused (LostRunError) once another run owns the deploy. */
  async write(change: (record: DeployRecord) => void | false): Promise<DeployRecord> {
    this.check();
    try {
      return await this.opts.store.update(this.deployId, change, { fence: this.token });
    } catch (err) {
      if (!(err instanceof FencedError)) throw err;
      this.lose('another run took the deploy over');
      throw this.controller.signal.reason as LostRunError;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private watch(): void {
    try {
      this.check();
    } catch {
      return this.stop();
    }
    // Another worker may own the record by now (our lock expired and the stall check handed the job on).
    if (this.checking || !this.claimed) return;
    this.checking = true;
    this.opts.store
      .get(this.deployId)
      .then((r) => {
        if (r && r.runToken !== this.token) this.lose('another run took the deploy over');
      })
      .catch(() => undefined)
      .finally(() => (this.checking = false));
  }
}
