/** Palette and context-menu commands, one file per concern; each asks for what it needs, validates it, and runs one engine operation as an edit. */
import * as vscode from 'vscode';
import type { CommandRunner } from '../commandRunner';
import type { ImageRegistry } from '../imageRegistry';
import type { LongWork } from '../longWork';
import { createImage, newImagePreset } from '../newImage';
import { registerAllocationCommands } from './allocation';
import { commandContext, Views } from './context';
import { registerExportCommands } from './exportMap';
import { registerHistoryCommands } from './history';
import { registerInspectionCommands } from './inspection';
import { registerMachineCommands } from './machine';
import { registerReplayCommands, registerWorkloadCommands } from './replay';
import { registerStructureCommands } from './structures';
import { registerCompareCommand } from './compare';
import type { ComparePanel } from '../comparePanel';
import { MapsInStep } from '../mapsInStep';
import { registerInStepCommands } from './inStep';
import { registerIoCommands } from './io';

export function registerCommands(context: vscode.ExtensionContext, registry: ImageRegistry, views: Views, runner: CommandRunner, work: LongWork): { compare: ComparePanel; inStep: MapsInStep } {
  const c = commandContext(context, registry, views, runner, work);
  c.run('pmemExplorer.newImage', (preset?: unknown) => createImage(context, newImagePreset(preset)));
  registerAllocationCommands(c);
  registerMachineCommands(c);
  registerIoCommands(c);
  const docs = registerInspectionCommands(c);
  registerReplayCommands(c, docs);
  registerWorkloadCommands(c, docs);
  registerHistoryCommands(c);
  registerExportCommands(c);
  registerStructureCommands(c);
  const inStep = new MapsInStep(registry);
  context.subscriptions.push(inStep);
  registerInStepCommands(c, inStep);
  return { compare: registerCompareCommand(c, inStep), inStep };
}
