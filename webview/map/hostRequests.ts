/** What the map asks of the host and waits for: cells of a window, a frame's details, a cell's mix, steps, the fragmentation history. */
import type { Step } from '../../src/engine/inspect/steps';
import type { FragHistoryData, FrameDetails, MapWindowRole } from '../../src/shared/protocol';
import { Requests } from '../../src/shared/requests';
import type { CellWindow } from '../preview';
import { Cells, post } from './model';

export type CellRequest = CellWindow & { window?: MapWindowRole; overlay?: boolean };

export const requests = new Requests<{
  cells: { request: CellRequest; response: Cells };
  frame: { request: { pfn: number }; response: FrameDetails | null };
  mix: { request: { pfn: number; frames: number }; response: number[] | null };
  steps: { request: { from: number; to: number }; response: Step[] };
  frag: { request: { samples: number }; response: FragHistoryData };
}>(
  (kind, id, r) => post(
    kind === 'cells' ? { type: 'getCells', id, ...(r as CellRequest) }
    : kind === 'frag' ? { type: 'getFragHistory', id, samples: (r as { samples: number }).samples }
      : kind === 'steps' ? { type: 'getSteps', id, ...(r as { from: number; to: number }) }
        : kind === 'mix' ? { type: 'getMix', id, ...(r as { pfn: number; frames: number }) }
          : { type: 'getFrame', id, pfn: (r as { pfn: number }).pfn },
  ),
  { timeoutMs: 120_000 },
);

/** A frame's details, or null when the host has none (or did not answer). */
export function frameDetails(pfn: number): Promise<FrameDetails | null> {
  return requests.request('frame', { pfn }).catch(() => null);
}
