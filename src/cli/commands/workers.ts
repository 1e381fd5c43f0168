import { Command } from 'commander';
import { ImgfleetError } from '../../errors.js';
import { usageError, type CommandContext } from '../usage.js';

export function workersCommand({ env }: CommandContext): Command {
  return new Command('workers')
    .description('list the live workers of a cluster')
    .option('--redis <url>', 'the cluster’s Redis (env IMGFLEET_REDIS)', env.redis)
    .option('--json', 'print JSON')
    .action(async (options: { redis?: string; json?: boolean }) => {
      if (!options.redis) throw usageError('--redis <url> (or IMGFLEET_REDIS) is required');
      const [{ ClusterEngine }, { clusterSettings }] = await Promise.all([import('../../engine/redis/cluster-engine.js'), import('../../engine/redis/cluster-settings.js')]);
      const engine = await ClusterEngine.open({ settings: clusterSettings(options.redis, env) });
      try {
        const { workers, reason } = await engine.status();
        if (reason?.startsWith('Redis unavailable')) throw new ImgfleetError('REDIS_UNAVAILABLE', `cannot list the workers: ${reason}`);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(workers, null, 2)}\n`);
          return;
        }
        const rows = workers.map((w) => [w.name, w.host, String(w.pid), String(w.concurrency), String(w.done), String(w.failed),
          `${w.active}/${w.concurrency}`, `${((Date.now() - w.lastSeen) / 1000).toFixed(1)} s ago`]);
        const header = ['name', 'host', 'pid', 'threads', 'done', 'failed', 'load', 'last seen'];
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
        console.log(`${workers.length} live worker(s)`);
      } finally {
        await engine.close();
      }
    });
}
