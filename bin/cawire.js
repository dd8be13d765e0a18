#!/usr/bin/env node
// The CLI is bundled (npm run build) so that start-up reads a few files, not dozens of modules.
import { main } from '../dist/cli/main.js';

await main(process.argv);
