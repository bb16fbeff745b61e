#!/usr/bin/env node
/**
 * `rollcall` entry point. Signal handlers go in before any other module loads (static
 * imports would load the whole program first), then the CLI is imported.
 */
import { SignalLatch } from './signals.js';

const latch = new SignalLatch();
if (process.argv[2] === 'run') latch.install();

const { main } = await import('./cli.js');
process.exitCode = await main(process.argv, latch);
