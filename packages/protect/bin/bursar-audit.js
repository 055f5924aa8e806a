#!/usr/bin/env node
// The bin lives outside dist/ so that package managers can link it before the first build.
import('../dist/cli.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli.js')) {
    console.error('bursar-audit: @bursar/protect is not built yet. Run `pnpm build` first.');
  } else {
    console.error(error);
  }
  process.exitCode = 2;
});
