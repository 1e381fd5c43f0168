#!/usr/bin/env node
// CommonJS (bin/package.json), so that libuv's thread pool is sized before anything uses it.
require('../dist/src/engine/threadpool-size.cjs');
import('../dist/bundle/cli/index.js');
