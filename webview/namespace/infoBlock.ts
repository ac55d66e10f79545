/** The info block field by field, its checksum and the kernel's checks with their verdicts. */
import type { NamespaceView } from '../../src/shared/namespaceProtocol';
import { $, el, row } from './dom';

export function renderInfoBlock(view: NamespaceView): void {
  if (!view.fields) return;
  $('infoSection').hidden = false;
  $('infoHeading').textContent = `Info block (${view.struct}) at byte 4096`;
  $('fields').querySelector('tbody')!.replaceChildren(...view.fields.map((f) => row([f.name, el('code', {}, f.value), String(f.offset)], [2])));
  const c = view.checksum!;
  $('checksum').replaceChildren(
    el('span', { class: c.ok ? 'verdict verdict-pass' : 'verdict verdict-fail' }, c.ok ? 'match' : 'MISMATCH'),
    ` checksum stored ${c.stored}, computed ${c.computed}`,
  );
  const v = view.validation;
  if (!v) return;
  // The kernel's words come with failures and notes: a column only when some rule has them.
  const said = v.rules.some((r) => r.kernel);
  const rules = el('tbody', {}, ...v.rules.map((r) => row([
    el('span', { class: `verdict verdict-${r.verdict.replace(/\s+/g, '-')}` }, r.verdict.toUpperCase()),
    el('code', {}, r.rule),
    r.check,
    ...(said ? [r.kernel ? `“${r.kernel}”${r.errno ? ` (${r.errno})` : ''}` : ''] : []),
  ])));
  $('validation').replaceChildren(
    el('h3', {}, 'Validation'),
    el('p', { class: 'summaryLine' }, el('span', { class: v.ok ? 'verdict verdict-pass' : 'verdict verdict-fail' }, v.ok ? 'every check passes' : `fails first at “${v.firstFailure}”`), ` (${v.title})`),
    ...(view.defaults ?? []).map((d) => el('p', { class: 'muted' }, `default: ${d}`)),
    el('table', { class: 'grid rules', 'aria-label': 'Validation rules' },
      el('thead', {}, el('tr', {}, ...['Verdict', 'Rule', 'Check', ...(said ? ['The kernel says'] : [])].map((h) => el('th', { scope: 'col' }, h)))),
      rules),
  );
}
