/**
 * Runs the extension's commands: a refusal (a bad argument, no image open, a
 * read-only image, an operation the engine turned down) is shown as its
 * message; anything else is an internal error, shown as one and logged with
 * its stack. Neither is rethrown, so a command run from the palette shows one
 * message, not VS Code's "command failed" as well. Every outcome is recorded,
 * so callers (and tests) can read why a command did nothing.
 */
import * as vscode from 'vscode';
import { escapeNotification } from '../shared/plainText';
import { isRefusal } from './refusal';

export interface CommandOutcome {
  command: string;
  kind: 'refused' | 'internal error';
  /** What the user was shown. */
  message: string;
}

/** The most outcomes kept. */
const KEPT = 50;

export class CommandRunner {
  private readonly kept: CommandOutcome[] = [];
  private count = 0;

  constructor(
    private readonly log: Pick<vscode.LogOutputChannel, 'info' | 'error'>,
    // A message may quote the image (a profile name, a history summary): it must not become a link.
    private readonly show: (message: string) => void = (m) => void vscode.window.showErrorMessage(escapeNotification(m)),
  ) {}

  /** How many refusals and internal errors there have been; pass it to `since`. */
  get mark(): number {
    return this.count;
  }

  /** The outcomes recorded after `mark` (at most the last 50), oldest first. */
  since(mark: number): CommandOutcome[] {
    return this.kept.slice(Math.max(0, this.kept.length - (this.count - mark)));
  }

  register(id: string, fn: (...args: unknown[]) => unknown): vscode.Disposable {
    return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        this.report(id, e);
        return undefined;
      }
    });
  }

  private report(command: string, e: unknown): void {
    let outcome: CommandOutcome;
    if (isRefusal(e)) {
      outcome = { command, kind: 'refused', message: e.message };
      this.log.info(`${command} refused: ${e.message}`);
    } else {
      const err = e instanceof Error ? e : new Error(String(e));
      outcome = { command, kind: 'internal error', message: `PMem: internal error in ${command}: ${err.message} (details in the PMem output)` };
      this.log.error(`internal error in ${command}: ${err.stack ?? err.message}`);
    }
    this.kept.push(outcome);
    if (this.kept.length > KEPT) this.kept.shift();
    this.count++;
    this.show(outcome.message);
  }
}
