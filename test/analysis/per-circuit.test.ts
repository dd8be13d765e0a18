import { describe, expect, it } from 'vitest';
import type { TcpCircuit } from '../../src/dissect/circuits.js';
import { PerCircuit } from '../../src/analysis/per-circuit.js';

const circuit = (id: number) => ({ id }) as TcpCircuit;

describe('PerCircuit', () => {
  it('keeps each circuit its own value when their ids share a cache slot, and forgets a deleted one', () => {
    const state = new PerCircuit<string>();
    const [a, b, c] = [circuit(5), circuit(5 + 1024), circuit(5 + 2048)];
    state.set(a, 'a');
    state.set(b, 'b');
    expect([state.get(a), state.get(b), state.get(c)]).toEqual(['a', 'b', undefined]);
    state.set(c, 'c');
    state.delete(b);
    expect([state.get(a), state.get(b), state.get(c)]).toEqual(['a', undefined, 'c']);
    expect([...state.values()]).toEqual(['a', 'c']);
  });

  it('tells a new circuit on a reused id slot from the old one (another object)', () => {
    const state = new PerCircuit<number>();
    const old = circuit(7);
    state.set(old, 1);
    state.delete(old);
    expect(state.get(circuit(7))).toBeUndefined();
  });
});
