/** What the benchmark ran on, so that its table can be quoted with it. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

function firstLine(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0].trim() || undefined : undefined;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export interface Machine {
  cpu: string;
  logicalCpus: number;
  ramBytes: number;
  node: string;
  kernel: string;
  os: string;
  loadAverage: number[];
  /** File system type of each directory the benchmark wrote to. */
  fileSystems: Record<string, string>;
  libpmemobj?: string;
  dd?: string;
}

export function describeMachine(dirs: string[]): Machine {
  const cpuinfo = readText('/proc/cpuinfo');
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const pretty = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readText('/etc/os-release'))?.[1];
  const fileSystems: Record<string, string> = {};
  // findmnt names ext4 as such; stat -f (the fallback) cannot tell it from ext2.
  for (const d of dirs) fileSystems[d] = firstLine('findmnt', ['-n', '-o', 'FSTYPE', '-T', d]) ?? firstLine('stat', ['-f', '-c', '%T', d]) ?? 'unknown';
  return {
    cpu: cpu.trim(),
    logicalCpus: os.cpus().length,
    ramBytes: os.totalmem(),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    os: pretty ?? os.platform(),
    loadAverage: os.loadavg(),
    fileSystems,
    libpmemobj: firstLine('dpkg-query', ['-W', '-f=${Version}', 'libpmemobj1']),
    dd: firstLine('dd', ['--version']),
  };
}

export function machineLine(m: Machine, loadAfter: number[]): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const fsText = Object.entries(m.fileSystems).map(([d, t]) => `${d} ${t}`).join(', ');
  return [
    `${m.cpu}, ${m.logicalCpus} logical CPUs, ${(m.ramBytes / 2 ** 30).toFixed(1)} GiB RAM`,
    `${m.kernel} (${m.os}), Node.js ${m.node}`,
    `files on ${fsText}`,
    `libpmemobj ${m.libpmemobj ?? 'not installed'}, ${m.dd ?? 'dd unknown'}`,
    `load average ${load(m.loadAverage)} before, ${load(loadAfter)} after`,
  ].join('; ');
}
