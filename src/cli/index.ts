#!/usr/bin/env node
import { main } from './main';

// A closed pipe (pmem info FILE | head) ends output quietly, as other tools do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = main(process.argv.slice(2));
