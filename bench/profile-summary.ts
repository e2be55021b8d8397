/**
 * `node dist/bench/profile-summary.js <file.cpuprofile> [top]`: where a `--cpu-prof` profile's time
 * went — self time per function and per file (node_modules packages grouped), as percentages of the
 * sampled time. Used to find and justify hot-path work (STYLE "Hot path").
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export function summarise(profile: Profile, top: number): string {
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + (deltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const time = self.get(node.id) ?? 0;
    if (time === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = shortFile(url);
    const fn = `${functionName || '(anonymous)'} ${file}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + time);
    byFile.set(file, (byFile.get(file) ?? 0) + time);
  }
  // Inclusive time: a node's own time plus its descendants', summed per function (once per stack).
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, time] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
      if (url === '' && functionName !== '(idle)') continue;
      const fn = `${functionName || '(anonymous)'} ${shortFile(url)}${url ? `:${lineNumber + 1}` : ''}`;
      if (seen.has(fn)) continue;
      seen.add(fn);
      inclusive.set(fn, (inclusive.get(fn) ?? 0) + time);
    }
  }
  const table = (map: Map<string, number>): string =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([name, time]) => `${((100 * time) / total).toFixed(1).padStart(5)}%  ${name}`).join('\n');
  const idle = [...byFunction.entries()].filter(([name]) => name.startsWith('(idle)')).reduce((a, [, t]) => a + t, 0);
  return `sampled ${(total / 1e6).toFixed(2)} s, busy ${((total - idle) / 1e6).toFixed(2)} s\n\nself time by function:\n${table(byFunction)}\n\nself time by file / package:\n${table(byFile)}\n\ninclusive time by function (JavaScript frames):\n${table(inclusive)}\n`;
}

function shortFile(url: string): string {
  if (url === '') return '(native / vm)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules !== -1) return url.slice(modules + 13).split('/').slice(0, url.slice(modules + 13).startsWith('@') ? 2 : 1).join('/');
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  return dist === -1 ? url : url.slice(dist + 6);
}

if (process.argv[1]?.endsWith('profile-summary.js')) {
  const [file, top = '40'] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
  process.stdout.write(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(top)));
}
