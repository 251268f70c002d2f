#!/usr/bin/env node
import { runKit } from '@datakit/core';
import { fileKit } from './kit.js';

await runKit(fileKit);
