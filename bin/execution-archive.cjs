#!/usr/bin/env node
// `npx execution-archive …` from the repository: the command line is TypeScript in lib/cli, run through tsx's
// CommonJS hook (a devDependency, installed by `npm ci`), so there is no build step and no second copy of lib/.
'use strict';
require('tsx/cjs/api').register();
const { main } = require('../lib/cli/index.ts');
main();
