// `node dist/bench/max-rss.js OUT ARGS…`: runs the cawire command line in this
// process and writes its peak resident set size (KiB) to OUT when it exits. The
// benchmark's way to measure memory where /usr/bin/time is not installed.

import { writeFileSync } from 'node:fs';
import { main } from '../src/cli/main.js';

const [out, ...args] = process.argv.slice(2);
if (!out) throw new Error('usage: max-rss.js OUT [cawire arguments…]');
process.on('exit', () => writeFileSync(out, String(process.resourceUsage().maxRSS)));
await main([process.argv[0]!, 'cawire', ...args]);
