import { defineKit, type Kit, type Stream } from '@datakit/core';
import { z } from 'zod';

type NoConfig = Record<string, never>;

/** A kit with no settings over `streams`, reading with `read`: the test kits of the runner's tests. */
export function fixtureKit(name: string, streams: Stream[], read: Kit<NoConfig>['read']): Kit<NoConfig> {
  return defineKit<NoConfig>({
    name,
    version: '0.0.0',
    config: z.object({}),
    check: async () => undefined,
    discover: async () => streams,
    read,
  });
}
