/** The kinds of history record, by their number on the media (FORMAT.md, History). */
export const HISTORY_KINDS = ['create', 'boot', 'alloc', 'free', 'init', 'replay'] as const;
export type HistoryKind = (typeof HISTORY_KINDS)[number];
