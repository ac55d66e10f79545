/** Building the namespace editor's DOM: every string goes in as text, never markup (the file may be hostile). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** A row of a table body. */
export function row(cells: Array<Node | string>, numeric: number[] = []): HTMLTableRowElement {
  return el('tr', {}, ...cells.map((c, i) => el('td', numeric.includes(i) ? { class: 'num' } : {}, c)));
}

export const hexOf = (n: number) => `0x${n.toString(16)}`;
