/** What `pmem info` prints for an image, line by line: the CLI prints it, the editor shows it as a read-only document. */
import { formatBytes, type ImageInfo } from '../engine';

export function infoLines(file: string, i: ImageInfo): string[] {
  const pct = (n: number) => `${((n / i.totalFrames) * 100).toFixed(2)} %`;
  const lines = [`${file}: pmem image, format ${i.formatVersion}.${i.formatRevision}, uuid ${i.uuid}`];
  if (i.writeRefusal) lines.push(`  read-only   ${i.writeRefusal}`);
  lines.push(
    `  size        ${formatBytes(i.sizeBytes)} (${i.totalFrames} frames of ${i.pageSize} bytes)`,
    `  data        ${i.dataFrames} frames; overhead ${i.overheadPercent.toFixed(4)} % (memmap ${i.memmapPercent.toFixed(4)} %)`,
    `  design      ${i.design}`,
    i.design === 'pfn-only'
      ? '  memmap      none: no descriptors; the free pages\' link records are the only page state (the explorer indexes them in RAM)'
      : i.design === 'two-word'
      ? `  memmap      on the device at byte ${i.memmap.offsetBytes}, ${formatBytes(i.memmap.bytes)}: a 16-byte two-word descriptor (allocator, allocatee) per 4 KiB frame (${formatBytes(i.memmap.ramBytes)} more in RAM under profile ${i.profile})`
      : i.design === 'memdesc'
      ? `  memmap      on the device at byte ${i.memmap.offsetBytes}, ${formatBytes(i.memmap.bytes)}: an 8-byte memdesc word per page (${formatBytes(i.totalFrames * 8)}) and a pool of ${Math.ceil(i.totalFrames / 16).toLocaleString('en-US')} 64-byte descriptors, one per allocation (${formatBytes(Math.ceil(i.totalFrames / 16) * 64)})`
      : i.design === '2m'
      ? `  memmap      on the device at byte ${i.memmap.offsetBytes}, ${formatBytes(i.memmap.bytes)}: one ${i.memmap.descriptorSize}-byte descriptor per 2 MiB unit (${formatBytes(i.memmap.ramBytes)} more in RAM under profile ${i.profile})`
      : i.ioPool
      ? `  memmap      none: a pool of ${i.ioPool.descriptors} descriptors in RAM (${formatBytes(i.ioPool.bytes)}) attached to frames under I/O: ${i.ioPool.attached} attached now (${i.ioPool.inFlight} I/O in flight), at most ${i.ioPool.peak} this boot`
      : `  memmap      on ${i.memmap.placement}${i.memmap.placement === 'device' ? ` at byte ${i.memmap.offsetBytes}, ${formatBytes(i.memmap.bytes)}` : `: ${formatBytes(i.memmap.ramBytes)} of RAM, rebuilt every boot`}; ${i.memmap.descriptorSize}-byte core descriptors`,
    `  free lists  links in the ${i.links === 'page' ? 'free pages' : 'descriptors'}; max order ${i.maxOrder}`,
    `  boot        generation ${i.bootGeneration}, ${i.clean ? 'clean' : 'not shut down cleanly'}, profile ${i.profile}${i.profileExtendedFields.length ? ` (extended: ${i.profileExtendedFields.join(', ')})` : ''}`,
    `  sections    ${i.sections.count} x ${formatBytes(i.sections.sizeBytes)}: ${i.sections.untouched} never initialised, ${i.sections.initialized} initialised, ${i.sections.stale} stale, ${i.sections.reservedOnly} metadata only`,
    `  frames      ${i.frames.free} free (${pct(i.frames.free)}), ${i.frames.allocated} allocated (${pct(i.frames.allocated)}), ${i.frames.uninitialized} uninitialised (${pct(i.frames.uninitialized)}), ${i.frames.reserved} reserved (${pct(i.frames.reserved)})`,
    ...i.nodes.map((n) => `  node ${n.id}      pfn ${n.firstPfn}+${n.frames}: ${n.zones.map((z) => `${z.name} ${z.firstPfn}+${z.frames}`).join(', ')}`),
    `  history     steps ${i.history.firstStep} to ${i.history.lastStep}, in a ${formatBytes(i.history.bytes)} region`,
  );
  return lines;
}
