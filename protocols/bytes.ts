// Unsigned integers read in place from a byte array. Buffer's read methods
// validate their arguments on every call; in the per-packet path these plain
// reads are several times cheaper. Callers check bounds once per header.

export function u16be(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u32be(b: Uint8Array, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

export function u32le(b: Uint8Array, o: number): number {
  return b[o + 3]! * 0x1000000 + ((b[o + 2]! << 16) | (b[o + 1]! << 8) | b[o]!);
}

export function i16be(b: Uint8Array, o: number): number {
  return (((b[o]! << 8) | b[o + 1]!) << 16) >> 16;
}

export function i32be(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

// Floats go through one shared 8-byte scratch in host order.
const scratch = new Uint8Array(8);
const scratchF32 = new Float32Array(scratch.buffer, 0, 1);
const scratchF64 = new Float64Array(scratch.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function f32be(b: Uint8Array, o: number): number {
  if (LITTLE) {
    scratch[0] = b[o + 3]!;
    scratch[1] = b[o + 2]!;
    scratch[2] = b[o + 1]!;
    scratch[3] = b[o]!;
  } else for (let i = 0; i < 4; i++) scratch[i] = b[o + i]!;
  return scratchF32[0]!;
}

export function f64be(b: Uint8Array, o: number): number {
  if (LITTLE) for (let i = 0; i < 8; i++) scratch[i] = b[o + 7 - i]!;
  else for (let i = 0; i < 8; i++) scratch[i] = b[o + i]!;
  return scratchF64[0]!;
}
