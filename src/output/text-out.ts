// Text written straight into a byte buffer as UTF-8. `print` builds its lines
// here: a JS string per line costs a concatenation, a flatten and a call into
// Buffer.write (about 190 ns for even a short line), more than the decoding.

/** UTF-8 bytes a JS string can take at most per UTF-16 unit. */
export const MAX_BYTES_PER_UNIT = 3;

/** Byte arrays longer than this are copied by TypedArray set() (a call, but no per-byte loop). */
const SET_MIN = 16;

/** Strings longer than this are encoded by Buffer.write (native, fast per byte) rather than by the loop. */
const LOOP_MAX = 48;

export class TextOut {
  /** the bytes: [0, pos) are written */
  buf: Buffer;
  pos = 0;

  /**
   * `initial`: the first buffer, or its size. `full(need)` is called when fewer
   * than `need` bytes are left; it must leave at least that much room (by default
   * the buffer is doubled, its content kept).
   */
  constructor(
    initial: number | Buffer = 4096,
    private readonly full?: (out: TextOut, need: number) => void,
  ) {
    this.buf = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial;
  }

  /** Makes sure `n` more bytes fit. */
  room(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    if (this.full) {
      this.full(this, n);
      return;
    }
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** The text written from `start` on, as a string. */
  text(start = 0): string {
    return this.buf.toString('utf8', start, this.pos);
  }

  str(s: string): void {
    const n = s.length;
    if (this.pos + n * MAX_BYTES_PER_UNIT > this.buf.length) this.grow(n * MAX_BYTES_PER_UNIT);
    if (n > LOOP_MAX) {
      this.pos += this.buf.write(s, this.pos);
      return;
    }
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        // Not ASCII: the rest is encoded natively (room for it was made above).
        p += b.write(i === 0 ? s : s.slice(i), p);
        break;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  /** One ASCII character by code. */
  char(c: number): void {
    if (this.pos + 1 > this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
  }

  bytes(src: Uint8Array): void {
    const n = src.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    const b = this.buf;
    let p = this.pos;
    if (n > SET_MIN) {
      b.set(src, p);
      this.pos = p + n;
      return;
    }
    for (let i = 0; i < n; i++) b[p++] = src[i]!;
    this.pos = p;
  }

  /** A number as String(n) writes it; integers of magnitude below 2^32 without a string. */
  num(n: number): void {
    if (n >= 0 && n < 4294967296 && n === Math.floor(n)) this.u32(n);
    else if (n < 0 && n > -4294967296 && n === Math.floor(n)) {
      this.char(45);
      this.u32(-n);
    } else this.str(String(n));
  }

  /** An integer in [0, 2^32) in decimal. */
  u32(n: number): void {
    let digits = 1;
    for (let t = n; t >= 10; t = (t / 10) >>> 0) digits++;
    if (this.pos + digits > this.buf.length) this.grow(digits);
    const b = this.buf;
    let p = this.pos + digits;
    this.pos = p;
    do {
      const q = (n / 10) >>> 0;
      b[--p] = 48 + n - q * 10;
      n = q;
    } while (n > 0);
  }

  /** An integer in [0, 10^width) in exactly `width` digits, zero-padded. */
  padded(n: number, width: number): void {
    if (this.pos + width > this.buf.length) this.grow(width);
    const b = this.buf;
    let p = this.pos + width;
    this.pos = p;
    for (let i = 0; i < width; i++) {
      const q = (n / 10) >>> 0;
      b[--p] = 48 + n - q * 10;
      n = q;
    }
  }
}

/** Text as UTF-8 bytes, for literal parts written many times. */
export function utf8Bytes(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}
