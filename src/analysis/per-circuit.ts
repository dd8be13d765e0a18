// Per-circuit state of an analysis. Monitor updates of many circuits interleave,
// so a last-circuit check mostly misses: a direct-mapped cache by circuit id
// stands in front of the Map, which keeps the circuits in the order they came.

import type { TcpCircuit } from '../dissect/circuits.js';

const SLOTS = 1024;

export class PerCircuit<T> {
  private readonly map = new Map<number, T>();
  private readonly cachedCircuit: (TcpCircuit | undefined)[] = new Array<TcpCircuit | undefined>(SLOTS).fill(undefined);
  private readonly cachedValue: (T | undefined)[] = new Array<T | undefined>(SLOTS).fill(undefined);

  get(c: TcpCircuit): T | undefined {
    const slot = c.id & (SLOTS - 1);
    if (this.cachedCircuit[slot] === c) return this.cachedValue[slot];
    const v = this.map.get(c.id);
    if (v !== undefined) {
      this.cachedCircuit[slot] = c;
      this.cachedValue[slot] = v;
    }
    return v;
  }

  set(c: TcpCircuit, v: T): void {
    this.map.set(c.id, v);
    const slot = c.id & (SLOTS - 1);
    this.cachedCircuit[slot] = c;
    this.cachedValue[slot] = v;
  }

  delete(c: TcpCircuit): void {
    this.map.delete(c.id);
    const slot = c.id & (SLOTS - 1);
    if (this.cachedCircuit[slot] === c) {
      this.cachedCircuit[slot] = undefined;
      this.cachedValue[slot] = undefined;
    }
  }

  /** in the order the circuits were first set */
  values(): IterableIterator<T> {
    return this.map.values();
  }
}
