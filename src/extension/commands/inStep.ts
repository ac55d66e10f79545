/** PMem: Keep Maps in Step and its undoing: the open images' maps move and select together. */
import type { MapsInStep } from '../mapsInStep';
import { Refusal } from '../refusal';
import type { CommandContext } from './context';

export function registerInStepCommands(c: CommandContext, inStep: MapsInStep): void {
  c.run('pmemExplorer.mapsInStep', () => {
    const maps = c.registry.allMaps.filter((m) => m.document.session);
    const images = [...new Set(maps.map((m) => m.document))];
    if (images.length < 2) throw new Refusal(`Keep Maps in Step: open two or more images first (${images.length === 1 ? 'one is' : 'none is'} open in the map editor)`);
    inStep.join(images.map((d) => d.uri));
    return inStep.uris;
  });
  c.run('pmemExplorer.mapsOutOfStep', () => {
    inStep.clear();
  });
}
