#!/usr/bin/env node
import { runKit } from '@datakit/core';
import { kafkaKit } from './kit.js';

await runKit(kafkaKit);
