#!/usr/bin/env node
import { runKit } from '@datakit/core';
import { postgresKit } from './kit.js';

await runKit(postgresKit);
