#!/usr/bin/env node
import { runKit } from '@datakit/core';
import { restKit } from './kit.js';

await runKit(restKit);
