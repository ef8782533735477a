/**
 * Seeded fault injection shared by both emulators: the same seed replays the same faults, so a
 * failing run can be reproduced from the seed it prints.
 */
export interface FaultPlan {
  /** Seed of the pseudo-random sequence. @default 1 */
  readonly seed?: number;
  /** Probability a request is throttled (EC2 RequestLimitExceeded / ECS Throttling.User). */
  readonly throttle?: number;
  /** Probability a request fails with a 5xx before doing anything. */
  readonly serverError?: number;
  /** Probability a mutating request is carried out and then answered with a 5xx (answer lost). */
  readonly lostAnswer?: number;
  /** Actions lostAnswer applies to. @default every mutating action */
  readonly lostAnswerActions?: string[];
  /** Probability the connection is reset before any answer. */
  readonly reset?: number;
  /**
   * Probability a request is never answered (the client's request timeout ends it). A mutating
   * request is carried out first half of the time: its answer is lost by a timeout.
   */
  readonly hang?: number;
  /** Extra latency per request, in milliseconds (uniform 0..latencyMs). */
  readonly latencyMs?: number;
}

export type Fault = 'throttle' | 'serverError' | 'reset' | 'hang' | undefined;

/** mulberry32: tiny, fast, good enough to spread faults; not for cryptography. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private readonly random: () => number;
  /** What was injected, for reports and assertions. */
  public readonly injected: Record<string, number> = {};
  /** Off: no faults at all (e.g. for the final, clean deploy of a chaos lifecycle). */
  public enabled = true;

  constructor(private readonly plan: FaultPlan = {}) {
    this.random = seededRandom(plan.seed ?? 1);
  }

  /** Decides the fault for one request, before it is processed. */
  public before(): Fault {
    return this.pick([['reset', this.plan.reset], ['throttle', this.plan.throttle], ['serverError', this.plan.serverError], ['hang', this.plan.hang]]);
  }

  /** For a hung mutating request: whether it was carried out before the silence. */
  public carriedOutBeforeHang(): boolean {
    return this.random() < 0.5;
  }

  /** Decides whether a processed mutating request loses its answer. */
  public loseAnswer(action: string): boolean {
    if (this.plan.lostAnswerActions && !this.plan.lostAnswerActions.includes(action)) return false;
    return this.pick([['lostAnswer', this.plan.lostAnswer]]) === 'lostAnswer';
  }

  public latency(): number {
    return this.enabled && this.plan.latencyMs ? Math.floor(this.random() * this.plan.latencyMs) : 0;
  }

  private pick<T extends string>(options: Array<[T, number | undefined]>): T | undefined {
    if (!this.enabled) return undefined;
    for (const [name, p] of options) {
      if (p && this.random() < p) {
        this.injected[name] = (this.injected[name] ?? 0) + 1;
        return name;
      }
    }
    return undefined;
  }
}

/** Simulated time: the emulators' state machines read it; rehearsals move it. */
export class SimulatedClock {
  private offsetMs = 0;
  /** While Lambda invocations run, simulated time passes `rate` times faster than real time. */
  private fast?: { since: number; rate: number; running: number };

  public now(): Date {
    return new Date(Date.now() + this.offsetMs + this.fastGainMs());
  }

  public advance(ms: number): void {
    this.offsetMs += ms;
  }

  /**
   * Simulated time runs `rate` times faster than real time until the returned function is called (at
   * the end of an invocation whose budgets were scaled by 1/rate), so that what an invocation waits
   * for (a payment, a listing delay) can happen while it runs. Overlapping invocations share one
   * fast stretch: time passes once, however many run at the same time.
   */
  public runFast(rate: number): () => void {
    if (this.fast) this.fast.running++;
    else this.fast = { since: Date.now(), rate, running: 1 };
    let ended = false;
    return () => {
      if (ended || !this.fast) return;
      ended = true;
      if (--this.fast.running > 0) return;
      this.offsetMs += this.fastGainMs();
      this.fast = undefined;
    };
  }

  private fastGainMs(): number {
    return this.fast ? (Date.now() - this.fast.since) * (this.fast.rate - 1) : 0;
  }
}
