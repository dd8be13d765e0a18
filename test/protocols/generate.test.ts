import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MESSAGES, sourceOf } from '../../protocols/ca/commands.js';
import { MAX_COMMAND, carriesDbr } from '../../protocols/ca/constants.js';
import { generateMessages } from '../../protocols/ca/generate.js';

const GENERATED = new URL('../../protocols/ca/messages.generated.ts', import.meta.url);

describe('messages.generated.ts', () => {
  it('is what the table in commands.ts generates (else: npm run generate)', () => {
    expect(readFileSync(GENERATED, 'utf8') === generateMessages(), 'protocols/ca/messages.generated.ts is stale: run npm run generate').toBe(true);
  });

  it("agrees with the framer's DBR commands (constants.ts carriesDbr): a command carries DBR data when one of its classes has a DBR field", () => {
    for (let code = 0; code <= MAX_COMMAND; code++) {
      const dbr = MESSAGES.some((m) => m.command === code && Object.values(m.fields).some((f) => sourceOf(f!) === 'dbr'));
      expect(dbr, `command ${code}`).toBe(carriesDbr(code));
    }
  });
});
