#!/usr/bin/env node
// Launcher: run the TypeScript CLI through tsx, so there is no build step between clone and use.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
