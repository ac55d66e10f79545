/**
 * Strings read from an image (owner tags, profile names, history summaries,
 * journal descriptions) come from a file that may be hostile. These helpers
 * make them show as the text they are in each medium, never as markup,
 * links or terminal commands. Pure: used by the extension, the webview and
 * the CLI.
 */

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]);
}

/**
 * Text for XML content and quoted attributes (an exported SVG). Besides the
 * five entities, characters XML 1.0 forbids (most C0 controls, lone
 * surrogates, U+FFFE/U+FFFF) would make the file unparsable: they become U+FFFD.
 */
export function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeHtml(text).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/**
 * Text for Markdown (a MarkdownString tooltip, a Markdown document), inline
 * after other text. Each character that can start inline markup (emphasis,
 * code, links and images, raw HTML and entities, strikethrough, tables, math)
 * is backslash-escaped, as CommonMark allows for any ASCII punctuation, and so
 * are the `/` of `://`, the `.` of `www.` and `@`, which a renderer would
 * otherwise turn into links. Line breaks become spaces: one value stays on its line.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r\n?|\n/g, ' ')
    .replace(/[\\`*_{}[\]<>&!#|~$@]/g, '\\$&')
    .replace(/:\/\//g, ':\\/\\/')
    .replace(/(www)\./gi, '$1\\.');
}

/**
 * Text for a VS Code notification. Notifications render `[label](target)` as
 * a link (a `command:` target runs a command): a zero-width space between `]`
 * and `(` keeps the text as it reads while breaking the link syntax.
 */
export function escapeNotification(text: string): string {
  return text.replace(/\]\s*\(/g, (m) => `${m.slice(0, -1)}\u200b(`);
}

/**
 * Text for a quick pick's label, description or detail, where `$(name)` is
 * drawn as an icon: a backslash keeps it as the characters it is.
 */
export function escapeIcons(text: string): string {
  return text.replace(/\$\(/g, '\\$(');
}

/**
 * Text for a terminal: control characters (C0 except tab and line feed, DEL,
 * C1, which start escape sequences that move the cursor, recolour or retitle
 * the terminal) and the bidirectional overrides (which reorder what is shown)
 * are written as visible \u escapes.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
