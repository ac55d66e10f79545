/** The last answers given to Allocate (prompts or the map's form): offered first next time, kept per workspace. */
import * as vscode from 'vscode';
import type { ZoneName } from '../engine';

export interface AllocationAnswers {
  order: number;
  count: number;
  node: number;
  zone: ZoneName;
  owner: string;
}

const KEY = 'pmemExplorer.lastAllocation';

class LastAllocation {
  private storage?: vscode.Memento;
  private value?: AllocationAnswers;
  private readonly emitter = new vscode.EventEmitter<AllocationAnswers>();
  readonly onDidChange = this.emitter.event;

  useStorage(storage: vscode.Memento): void {
    this.storage = storage;
    this.value = storage.get<AllocationAnswers>(KEY) ?? this.value;
  }

  get answers(): AllocationAnswers | undefined {
    return this.value;
  }

  remember(a: AllocationAnswers): void {
    this.value = { ...a };
    void this.storage?.update(KEY, this.value);
    this.emitter.fire(this.value);
  }
}

export const lastAllocation = new LastAllocation();
