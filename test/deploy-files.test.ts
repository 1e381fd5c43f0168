import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { Redis } from 'ioredis';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import type { FastifyInstance } from 'fastify';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { ClusterEngine } from '../src/engine/redis/cluster-engine.js';
import { clusterSettings, QUEUE_NAME } from '../src/engine/redis/cluster-settings.js';
import { buildServer } from '../src/server/app.js';
import { REDIS_URL, testPrefix, waitFor } from './cluster-helpers.js';
import { cli, ROOT, synthetic, toPng } from './helpers.js';

const KUBE = join(ROOT, 'deploy', 'kubernetes');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Third-party images the deployment files run beside imgfleet's own. */
const SERVICE_IMAGES = new Set(['redis:7.4', 'minio/minio:latest']);
/** The AWS SDK's standard variables, for object storage; imgfleet does not name them itself. */
const AWS_VARIABLES = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_ENDPOINT_URL_S3']);

type Doc = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [key: string]: any };

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace, 'v1/Secret': Secret, 'v1/Service': Service, 'v1/ConfigMap': ConfigMap,
  'apps/v1/Deployment': Deployment, 'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget, 'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject, 'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : []));
}

function documents(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], `${file}: YAML errors`);
    return d.toJS() as Doc;
  }).filter(Boolean);
}

interface Kustomization { namespace: string; resources: string[]; images?: { name: string; newName?: string; newTag?: string }[] }

/** Every object an overlay applies, following kustomize's resources (files and bases). */
function build(dir: string): { docs: Doc[]; kustomizations: Kustomization[] } {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  const docs: Doc[] = [];
  const kustomizations = [k];
  for (const resource of k.resources) {
    const path = join(dir, resource);
    assert.ok(existsSync(path), `${relative(ROOT, dir)}/kustomization.yaml names ${resource}, which does not exist`);
    if (existsSync(join(path, 'kustomization.yaml'))) {
      const base = build(path);
      docs.push(...base.docs);
      kustomizations.push(...base.kustomizations);
    } else {
      docs.push(...documents(path));
    }
  }
  return { docs, kustomizations };
}

const all = (docs: Doc[], kind: string) => docs.filter((d) => d.kind === kind);
const one = (docs: Doc[], kind: string, name: string) => {
  const found = docs.find((d) => d.kind === kind && d.metadata.name === name);
  assert.ok(found, `${kind} ${name}`);
  return found;
};

/** The containers that run imgfleet's image, with the pod spec around them. */
function imgfleetContainers(docs: Doc[]): { workload: string; pod: any; container: any }[] {
  return all(docs, 'Deployment').flatMap((d) => d.spec.template.spec.containers
    .filter((c: any) => c.image === 'imgfleet')
    .map((container: any) => ({ workload: d.metadata.name, pod: d.spec.template.spec, container })));
}

/** Every `process.env.X` and quoted 'IMGFLEET_…' name in the sources: the variables imgfleet reads. */
function variablesReadByCode(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.[cm]?ts$/.test(entry.name)) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/process\.env\.([A-Z_][A-Z0-9_]*)|process\.env\[['"]([A-Z_][A-Z0-9_]*)['"]\]|['"`](IMGFLEET_[A-Z0-9_]+)['"`]/g)) names.add(m[1] ?? m[2] ?? m[3]);
      }
    }
  };
  walk(join(ROOT, 'src'));
  return names;
}

/** The long options `imgfleet <command> --help` lists. */
async function commandOptions(command: string): Promise<Set<string>> {
  const help = await cli([command, '--help']);
  assert.equal(help.status, 0, `imgfleet ${command} is a command: ${help.stderr}`);
  return new Set([...help.stdout.matchAll(/(--[a-z][a-z-]*)/g)].map((m) => m[1]));
}

/** An imgfleet command line is a command of the CLI, with options it has. */
async function assertImgfleetCommand(argv: string[], where: string): Promise<void> {
  const [command, ...rest] = argv;
  const known = await commandOptions(command);
  for (const arg of rest.filter((a) => a.startsWith('--'))) assert.ok(known.has(arg), `${where}: imgfleet ${command} has no option ${arg}`);
}

function optionValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function dockerfile(): { expose: string[]; entrypoint: string[]; healthcheck: string[] } {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const json = (pattern: string) => JSON.parse(new RegExp(`^${pattern}(\\[.*\\])\\s*$`, 'm').exec(text)![1]) as string[];
  return { expose: [...text.matchAll(/^EXPOSE (.+)$/gm)].flatMap((m) => m[1].split(/\s+/)), entrypoint: json('ENTRYPOINT '), healthcheck: json('HEALTHCHECK .*? CMD ') };
}

describe('deployment files: schemas', () => {
  it('compose.yaml is valid against the Compose Specification\'s JSON Schema', () => {
    const require = createRequire(import.meta.url);
    const draft7 = require('ajv/dist/refs/json-schema-draft-07.json') as object;
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addMetaSchema({ ...draft7, $id: 'https://json-schema.org/draft-07/schema' });
    const validate = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'deploy', 'schemas', 'compose-spec.json'), 'utf8')));
    const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'));
    assert.ok(validate(compose), JSON.stringify(validate.errors, null, 2));
    // The schema is strict about names: a misspelt key is refused.
    assert.equal(validate({ services: { api: { image: 'x', healthchek: {} } } }), false);
  });

  it('every Kubernetes manifest is valid against the API\'s schema for its kind', () => {
    const files = yamlFiles(KUBE).filter((f) => !f.endsWith('kustomization.yaml'));
    assert.ok(files.length >= 8, files.join(' '));
    for (const file of files) {
      for (const doc of documents(file)) {
        const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
        assert.ok(Model, `${relative(ROOT, file)}: no schema known for ${doc.apiVersion} ${doc.kind}`);
        try {
          new Model(doc).validate();
        } catch (error) {
          assert.fail(`${relative(ROOT, file)}: ${doc.kind} ${doc.metadata?.name}: ${(error as Error).message}`);
        }
      }
    }
    // The validation has teeth: a wrong type or a missing required field is refused.
    assert.throws(() => new Deployment({ metadata: { name: 'x' }, spec: { replicas: 'two', selector: {}, template: { spec: { containers: [{ image: 'i' }] } } } } as any).validate());
  });

  it('each overlay applies every file of its folder, and the base once', () => {
    for (const overlay of ['keda', 'hpa']) {
      const dir = join(KUBE, overlay);
      const { docs, kustomizations } = build(dir);
      const listed = new Set(parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')).resources as string[]);
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) assert.ok(listed.has(file), `${overlay}/${file} is not applied`);
      const names = docs.map((d) => `${d.kind}/${d.metadata.name}`);
      assert.equal(new Set(names).size, names.length, `no object twice: ${names.join(' ')}`);
      for (const k of kustomizations) assert.equal(k.namespace, 'imgfleet');
    }
    const base = readdirSync(join(KUBE, 'base')).filter((f) => f !== 'kustomization.yaml');
    const listed = parse(readFileSync(join(KUBE, 'base', 'kustomization.yaml'), 'utf8')).resources as string[];
    assert.deepEqual([...listed].sort(), base.sort());
  });
});

describe('deployment files: what they name exists in the project', () => {
  const { docs, kustomizations } = build(join(KUBE, 'keda'));
  const hpaDocs = build(join(KUBE, 'hpa')).docs;
  const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as { services: Record<string, any> };
  const image = dockerfile();
  let app: FastifyInstance;
  let engine: LocalEngine;

  before(async () => {
    engine = new LocalEngine({ threads: 1 });
    app = await buildServer({ engine, token: 'deploy-test' });
  });
  after(async () => {
    await app.close();
    await engine.close();
  });

  it('images: imgfleet\'s own at this version (built from the Dockerfile), or the services beside it', () => {
    const baseK = kustomizations.find((k) => k.images)!;
    assert.deepEqual(baseK.images, [{ name: 'imgfleet', newName: 'imgfleet', newTag: VERSION }]);
    const kubeImages = [...docs, ...hpaDocs].flatMap((d) => (d.spec?.template?.spec?.containers ?? []).map((c: any) => c.image as string));
    for (const name of kubeImages) assert.ok(name === 'imgfleet' || SERVICE_IMAGES.has(name), `Kubernetes image ${name}`);
    for (const [name, service] of Object.entries(compose.services)) {
      assert.ok(service.image === `imgfleet:${VERSION}` || SERVICE_IMAGES.has(service.image), `compose service ${name}: image ${service.image}`);
      if (service.build) assert.ok(existsSync(join(ROOT, service.build.context, 'Dockerfile')), `compose ${name} builds the Dockerfile`);
    }
    assert.ok(compose.services.api.build, 'compose builds the image it runs');
  });

  it('commands: each container runs an imgfleet command with options it has; health checks run imgfleet health', async () => {
    assert.deepEqual(image.entrypoint.slice(0, 2), ['/usr/bin/tini', '--']);
    assert.equal(image.entrypoint[2], 'imgfleet');
    assert.deepEqual(image.healthcheck.slice(0, 2), ['imgfleet', 'health']);
    await assertImgfleetCommand(image.healthcheck.slice(1), 'Dockerfile HEALTHCHECK');
    for (const { workload, container } of imgfleetContainers(docs)) {
      assert.equal(container.command, undefined, `${workload}: the image's entrypoint (tini) stays`);
      await assertImgfleetCommand(container.args, workload);
    }
    for (const name of ['api', 'worker']) await assertImgfleetCommand(compose.services[name].command, `compose ${name}`);
    assert.deepEqual(compose.services.api.healthcheck.test.slice(0, 3), ['CMD', 'imgfleet', 'health']);
    await assertImgfleetCommand(compose.services.api.healthcheck.test.slice(2), 'compose api healthcheck');
    assert.equal(compose.services.api.command[0], 'serve');
    assert.equal(compose.services.worker.command[0], 'worker');
    // A worker's health: the file it rewrites while alive, named by the image's environment.
    assert.deepEqual(compose.services.worker.healthcheck.test.slice(0, 4), ['CMD', 'imgfleet', 'health', '--worker']);
    await assertImgfleetCommand(compose.services.worker.healthcheck.test.slice(2), 'compose worker healthcheck');
    const [worker] = imgfleetContainers(docs).filter((c) => c.workload === 'imgfleet-worker');
    assert.deepEqual(worker.container.livenessProbe.exec.command.slice(0, 3), ['imgfleet', 'health', '--worker']);
    await assertImgfleetCommand(worker.container.livenessProbe.exec.command.slice(1), 'worker livenessProbe');
    assert.match(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'), /^\s+IMGFLEET_ALIVE_FILE=\/tmp\//m, 'the image names the alive file, in /tmp (writable)');
    assert.ok(variablesReadByCode().has('IMGFLEET_ALIVE_FILE'));
    assert.deepEqual(imgfleetContainers(docs).map((c) => `${c.workload}:${c.container.args[0]}`).sort(), ['imgfleet-api:serve', 'imgfleet-worker:worker']);
  });

  it('ports: the port serve listens on is the one exposed, published and probed', () => {
    assert.deepEqual(image.expose, ['8080']);
    const [api] = imgfleetContainers(docs).filter((c) => c.workload === 'imgfleet-api');
    const port = Number(optionValue(api.container.args, '--port'));
    assert.equal(port, 8080);
    assert.deepEqual(api.container.ports, [{ name: 'http', containerPort: port }]);
    for (const probe of ['readinessProbe', 'livenessProbe']) assert.equal(api.container[probe].httpGet.port, 'http');
    const service = one(docs, 'Service', 'imgfleet-api');
    assert.equal(service.spec.ports[0].targetPort, 'http');
    for (const [key, value] of Object.entries(service.spec.selector)) assert.equal(one(docs, 'Deployment', 'imgfleet-api').spec.template.metadata.labels[key], value);
    const monitor = one(hpaDocs, 'ServiceMonitor', 'imgfleet-api');
    assert.equal(monitor.spec.endpoints[0].port, service.spec.ports[0].name);
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata.labels![key], value);
    assert.deepEqual(compose.services.api.ports, [`8080:${Number(optionValue(compose.services.api.command, '--port'))}`]);
    assert.equal(compose.services.worker.ports, undefined, 'workers publish nothing, so they scale');
  });

  it('probe and scrape paths are routes of the server, answering as the probes expect', async () => {
    const [api] = imgfleetContainers(docs).filter((c) => c.workload === 'imgfleet-api');
    const paths = { readiness: api.container.readinessProbe.httpGet.path, liveness: api.container.livenessProbe.httpGet.path };
    assert.deepEqual(paths, { readiness: '/readyz', liveness: '/healthz' });
    for (const path of Object.values(paths)) {
      assert.ok(app.hasRoute({ method: 'GET', url: path }), path);
      const response = await app.inject({ method: 'GET', url: path });
      assert.equal(response.statusCode, 200, `${path} without a token: ${response.body}`);
    }
    const metricsPath = one(hpaDocs, 'ServiceMonitor', 'imgfleet-api').spec.endpoints[0].path;
    const metrics = await app.inject({ method: 'GET', url: metricsPath, headers: { authorization: 'Bearer deploy-test' } });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /^# TYPE imgfleet_queue_depth gauge$/m);
    assert.equal((await app.inject({ method: 'GET', url: metricsPath })).statusCode, 401, 'hence the ServiceMonitor\'s token');
  });

  it('variables: every one given to imgfleet is read by its code (or is a standard AWS SDK variable)', () => {
    const read = variablesReadByCode();
    const secret = one(docs, 'Secret', 'imgfleet');
    const given = new Map<string, string>();
    for (const { workload, container } of imgfleetContainers(docs)) {
      for (const env of container.env ?? []) given.set(env.name, workload);
      for (const from of container.envFrom ?? []) {
        assert.equal(from.secretRef.name, secret.metadata.name, `${workload} reads the Secret`);
        for (const key of Object.keys(secret.stringData)) given.set(key, `${workload} (Secret)`);
      }
    }
    for (const name of ['api', 'worker']) for (const key of Object.keys(compose.services[name].environment)) given.set(key, `compose ${name}`);
    assert.ok(given.size >= 5, [...given.keys()].join(' '));
    for (const [name, where] of given) assert.ok(read.has(name) || AWS_VARIABLES.has(name), `${where}: ${name} is read by no code of imgfleet`);
    for (const name of ['IMGFLEET_REDIS', 'IMGFLEET_TOKEN', 'IMGFLEET_DRAIN_MS']) assert.ok(given.has(name), name);

    // Compose fills its variables from .env; .env.example lists them all.
    const interpolated = new Set([...readFileSync(join(ROOT, 'compose.yaml'), 'utf8').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]));
    const example = new Set([...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    assert.deepEqual([...interpolated].sort(), [...example].sort());
    assert.match(compose.services.api.environment.IMGFLEET_TOKEN, /^\$\{IMGFLEET_TOKEN:\?/, 'no token, no start');
  });

  it('Redis: where the Secret and compose point is the Redis they run, with AOF and noeviction', () => {
    const secret = one(docs, 'Secret', 'imgfleet');
    const redisService = one(docs, 'Service', 'imgfleet-redis');
    const url = new URL(secret.stringData.IMGFLEET_REDIS);
    assert.equal(url.hostname, redisService.metadata.name);
    assert.equal(Number(url.port), redisService.spec.ports[0].port);
    const redisArgs = one(docs, 'StatefulSet', 'imgfleet-redis').spec.template.spec.containers[0].args.join(' ');
    assert.match(redisArgs, /--appendonly yes/);
    assert.match(redisArgs, /--maxmemory-policy noeviction/);
    const composeRedis = compose.services.redis.command.join(' ');
    assert.match(composeRedis, /--appendonly yes/);
    assert.match(composeRedis, /--maxmemory-policy noeviction/);
    for (const name of ['api', 'worker']) {
      assert.equal(new URL(compose.services[name].environment.IMGFLEET_REDIS).hostname, 'redis');
      assert.equal(compose.services[name].depends_on.redis.condition, 'service_healthy');
    }
  });

  it('workers drain before they are killed: the grace period is above the drain limit, SIGTERM goes to tini', () => {
    const worker = one(docs, 'Deployment', 'imgfleet-worker').spec.template.spec;
    const container = worker.containers[0];
    const drainMs = Number(container.env.find((e: any) => e.name === 'IMGFLEET_DRAIN_MS').value);
    assert.equal(drainMs, 60_000);
    assert.ok(worker.terminationGracePeriodSeconds * 1000 > drainMs + 10_000, `grace ${worker.terminationGracePeriodSeconds} s vs drain ${drainMs} ms`);
    // The preStop hook signals PID 1, which the image makes tini (it hands the signal on).
    assert.deepEqual(container.lifecycle.preStop.exec.command.slice(0, 2), ['sh', '-c']);
    assert.match(container.lifecycle.preStop.exec.command[2], /^kill -TERM 1; while kill -0 1/);
    assert.equal(image.entrypoint[0], '/usr/bin/tini');
    const pdb = one(docs, 'PodDisruptionBudget', 'imgfleet-worker');
    assert.deepEqual(pdb.spec.selector.matchLabels, one(docs, 'Deployment', 'imgfleet-worker').spec.selector.matchLabels);
    const composeDrain = Number(compose.services.worker.environment.IMGFLEET_DRAIN_MS);
    assert.ok(Number(/^(\d+)s$/.exec(compose.services.worker.stop_grace_period)![1]) * 1000 > composeDrain, 'compose waits for the drain too');
    const threads = Number(optionValue(container.args, '--concurrency'));
    assert.equal(String(threads), container.resources.requests.cpu, 'one thread per requested core');
  });

  it('the KEDA ScaledObject counts the keys where imgfleet\'s queued jobs really are', async (t) => {
    const scaled = one(docs, 'ScaledObject', 'imgfleet-worker');
    assert.equal(scaled.spec.scaleTargetRef.name, 'imgfleet-worker');
    const redisService = one(docs, 'Service', 'imgfleet-redis');
    const namespace = kustomizations[0].namespace;
    const defaultPrefix = clusterSettings('redis://unused').prefix;
    assert.equal(defaultPrefix, 'imgfleet');
    const triggers = scaled.spec.triggers as { type: string; name: string; metadata: { address: string; listName: string } }[];
    for (const trigger of triggers) {
      assert.equal(trigger.type, 'redis');
      assert.equal(trigger.metadata.address, `${redisService.metadata.name}.${namespace}.svc.cluster.local:${redisService.spec.ports[0].port}`);
      assert.ok(trigger.metadata.listName.startsWith(`${defaultPrefix}:${QUEUE_NAME}:`), trigger.metadata.listName);
    }
    const formula = scaled.spec.advanced.scalingModifiers.formula as string;
    assert.deepEqual(formula.split('+').map((s) => s.trim()).sort(), triggers.map((tr) => tr.name).sort(), 'the formula adds every trigger');

    // Queue jobs as imgfleet does (a batch engine, priority 10, and an interactive one, priority 1),
    // with no worker to take them, under a test prefix; then measure each key as KEDA's redis
    // scaler does: ZCARD for a sorted set, LLEN for a list (or a key that does not exist).
    const prefix = testPrefix(t);
    const engine = await ClusterEngine.open({ settings: clusterSettings(REDIS_URL, { prefix }) });
    const png = await toPng(synthetic(8, 8, 3, () => 128));
    const queued = (['batch', 'batch', 'interactive'] as const).map((priority, i) => ({ priority, pipeline: { steps: [{ op: ['negate', 'grayscale', 'sepia'][i] }] } }));
    for (const q of queued) void engine.run({ source: { kind: 'bytes', bytes: png }, sink: { kind: 'bytes' }, ...q });
    const redis = new Redis(REDIS_URL);
    t.after(async () => { redis.disconnect(); await engine.close(); });
    const kedaLength = async (key: string) => {
      const type = await redis.type(key);
      // A key made between the two commands (a job queued meanwhile) answers WRONGTYPE: not counted yet.
      if (type !== 'zset' && type !== 'list' && type !== 'none') return Number.NaN;
      return (type === 'zset' ? redis.zcard(key) : redis.llen(key)).catch(() => Number.NaN);
    };
    const lengths = async () => Object.fromEntries(await Promise.all(triggers.map(async (tr) => [tr.name, await kedaLength(tr.metadata.listName.replace(`${defaultPrefix}:`, `${prefix}:`))] as const)));
    await waitFor(async () => Object.values(await lengths()).reduce((a, b) => a + b, 0) === queued.length, 10_000, 'the jobs to be queued');
    assert.deepEqual(await lengths(), { prioritized: 3, waiting: 0 }, 'prioritized jobs are in the sorted set, not the wait list');
  });

  it('the README gives the requests and limits the manifests and compose.yaml set', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const worker = one(docs, 'Deployment', 'imgfleet-worker').spec.template.spec.containers[0];
    const threads = optionValue(worker.args, '--concurrency');
    const { requests, limits } = worker.resources;
    assert.ok(readme.includes(`**A worker with ${threads} threads: request \`cpu: ${requests.cpu}\` and \`memory: ${requests.memory}\`, limit \`memory: ${limits.memory}\`**`), 'README: Sizing a worker');
    const api = one(docs, 'Deployment', 'imgfleet-api').spec.template.spec.containers[0].resources;
    assert.match(readme.replace(/\s+/g, ' '), new RegExp(`request \`cpu: ${api.requests.cpu}\`, \`memory: ${api.requests.memory}\`, limit \`memory: ${api.limits.memory}\``));
    const composeWorker = compose.services.worker;
    assert.equal(optionValue(composeWorker.command, '--concurrency'), threads);
    // Compose's 512m and Kubernetes' 512Mi are both mebibytes.
    const mebibytes = (quantity: string) => Number(/^(\d+)(?:Mi|m)$/.exec(quantity)![1]);
    assert.equal(mebibytes(composeWorker.deploy.resources.reservations.memory), mebibytes(requests.memory));
    assert.equal(mebibytes(composeWorker.deploy.resources.limits.memory), mebibytes(limits.memory));
  });

  it('the HPA scales the workers on imgfleet_queue_depth of the API Service', () => {
    const hpa = one(hpaDocs, 'HorizontalPodAutoscaler', 'imgfleet-worker');
    assert.equal(hpa.spec.scaleTargetRef.name, 'imgfleet-worker');
    const [metric] = hpa.spec.metrics;
    assert.equal(metric.object.metric.name, 'imgfleet_queue_depth');
    assert.equal(metric.object.describedObject.name, one(hpaDocs, 'Service', 'imgfleet-api').metadata.name);
    assert.ok(hpa.spec.minReplicas >= 1, 'the API is ready only while a worker is live');
    assert.ok(one(docs, 'ScaledObject', 'imgfleet-worker').spec.minReplicaCount >= 1, 'likewise with KEDA');
    assert.ok(!hpaDocs.some((d) => d.kind === 'ScaledObject') && !docs.some((d) => d.kind === 'HorizontalPodAutoscaler'), 'one autoscaler per overlay');
  });
});
