import { writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fleetChartSvg, fleetMarkdown, knees } from './report.js';
import { fleetBench, type FleetResults } from './run-fleet.js';

/** The fleet workload of `npm run bench`: writes bench/results/fleet.{json,md,svg}, apart from the other workloads' results. */
export async function runFleetWorkload(root: string, photos: string, options: { count: number; sizes: number[]; command: string }): Promise<void> {
  const measured = await fleetBench(root, photos, options.count, options.sizes, (line) => console.log(line));
  const cores = availableParallelism();
  const results: FleetResults = {
    date: new Date().toISOString(), machine: { cores, cpu: cpus()[0]?.model, node: process.version }, command: options.command,
    ...measured, knees: knees(measured.coordinator, measured.simulation, cores),
  };
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'fleet.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, 'fleet.md'), fleetMarkdown(results));
  writeFileSync(join(dir, 'fleet.svg'), fleetChartSvg(results));
  console.log(`\n${fleetMarkdown(results)}\nwrote bench/results/fleet.{json,md,svg}`);
}
