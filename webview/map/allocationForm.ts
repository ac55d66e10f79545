/** The toolbar's quick allocation form: order, count, node and owner, checked before they go to the host. */
import type { AllocationForm } from '../../src/shared/protocol';
import { $, post, view } from './model';

const allocFields = { order: $<HTMLInputElement>('allocOrder'), count: $<HTMLInputElement>('allocCount'), node: $<HTMLInputElement>('allocNode'), owner: $<HTMLInputElement>('allocOwner') };

/** The last answers fill the form, unless it is being typed in. */
export function showLastAllocation(a: AllocationForm): void {
  if ($('allocForm').contains(document.activeElement)) return;
  allocFields.order.value = String(a.order);
  allocFields.count.value = String(a.count);
  allocFields.node.value = String(a.node);
  allocFields.owner.value = a.owner;
}

/** The form's answers, each field marked when it is not usable; undefined if one is not. */
function allocationAnswers(): AllocationForm | undefined {
  const whole = (el: HTMLInputElement, min: number, max: number) => {
    const v = Number(el.value.trim());
    const ok = el.value.trim() !== '' && Number.isSafeInteger(v) && v >= min && v <= max;
    el.setAttribute('aria-invalid', String(!ok));
    return ok ? v : undefined;
  };
  const img = view.state?.image;
  if (!img) return undefined;
  const order = whole(allocFields.order, 0, img.maxOrder);
  const count = whole(allocFields.count, 1, 2 ** 31);
  const node = whole(allocFields.node, 0, img.nodes.length - 1);
  const ownerOk = new TextEncoder().encode(allocFields.owner.value).length <= 16;
  allocFields.owner.setAttribute('aria-invalid', String(!ownerOk));
  if (order === undefined || count === undefined || node === undefined || !ownerOk) return undefined;
  return { order, count, node, owner: allocFields.owner.value };
}

/** The form asks the host to allocate with its answers, when they are usable. */
export function listenToAllocationForm(): void {
  $('allocForm').addEventListener('submit', (e) => {
    e.preventDefault();
    const a = allocationAnswers();
    if (a) post({ type: 'allocate', ...a });
  });
}
