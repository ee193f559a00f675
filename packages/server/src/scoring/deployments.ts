/**
 * The deployment supervisor: runs each web service's runtime on this server replica.
 *
 * - A change that alters what runs (create, update) deploys here: the service is
 *   Transitioning; its script and models are laid out in
 *   `{runtimeDir}/{serviceId}/{configVersion}/`; the runtime starts; the service becomes
 *   Healthy, or Failed with the error. An update starts the new runtime beside the old
 *   one and swaps it in; the old one stops once its last request ends (no downtime).
 * - Another replica's deployment arrives through the directory: a replica holding an
 *   older runtime starts the new one in the background and swaps; one holding none starts
 *   it on the first scoring request (concurrent requests share that start).
 * - Deletion stops the runtime and removes its directory; the server's close stops all.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ScoringPolicy } from '../config.js';
import type { Sandbox } from '../sandbox/index.js';
import { TesseraError } from '../errors.js';
import { answerLimitFor, type RuntimeFactory, type RuntimeModel, type ServiceRuntime } from './runtimes/types.js';
import { publicDeploymentError, type WebServices } from '../workspace/webServices.js';
import type { DirectoryEvent, ServiceEntry } from './serviceDirectory.js';
import { RequestQueue } from './requestQueue.js';
import type { ServiceLogs } from './serviceLogs.js';

/** A started runtime of one configuration. */
export interface RunningRuntime {
  serviceId: string;
  configVersion: number;
  runtime: ServiceRuntime;
  directory: string;
  inFlight: number;
  /** Replaced: stop once the last request on it ends. */
  retired: boolean;
}

interface Slot {
  current: RunningRuntime | undefined;
  /** Starts under way, by configuration version: every caller shares one. */
  starting: Map<number, Promise<RunningRuntime>>;
  queue: RequestQueue;
  /** When a lazy or background start last failed (retries wait a while). */
  failedAt: number;
  /** Set once the service is deleted: late starts stop at once. */
  gone: boolean;
}

const RETRY_FAILED_START_MS = 5_000;

export class Deployments {
  private readonly slots = new Map<string, Slot>();
  private closed = false;

  constructor(
    private readonly services: WebServices,
    private readonly createRuntime: RuntimeFactory,
    private readonly logs: ServiceLogs,
    private readonly policy: ScoringPolicy,
    private readonly sandbox: Sandbox,
    private readonly onError: (err: unknown, what: string) => void,
  ) {}

  /** The request queue of a service on this replica. */
  queueOf(entry: ServiceEntry): RequestQueue {
    return this.slotOf(entry.id, entry).queue;
  }

  /**
   * Deploys the service's current configuration (after a change on this replica) and
   * records the outcome. Never rejects: failures become the Failed state.
   */
  async deploy(serviceId: string): Promise<void> {
    const source = await this.services.deploymentSource(serviceId);
    if (!source || this.closed) return;
    const version = source.row.config_version;
    const slot = this.slotOf(serviceId);
    this.logs.append(serviceId, 'system', `Deploying configuration ${version} (${source.row.runtime} runtime).`);
    let running: RunningRuntime;
    try {
      running = await this.start(slot, serviceId, version);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Readers see the logs: no server path in them (the server's own log has the detail).
      this.logs.append(serviceId, 'system', `Deployment of configuration ${version} failed: ${publicDeploymentError(message)}`);
      const recorded = await this.services.setState(serviceId, version, 'Failed', message).catch((e: unknown) => (this.onError(e, 'recording a failed deployment'), false));
      if (recorded) this.retire(slot, slot.current, true);
      return;
    }
    const recorded = await this.services.setState(serviceId, version, 'Healthy', null).catch((e: unknown) => (this.onError(e, 'recording a deployment'), false));
    if (!recorded) {
      // A newer configuration (or a deletion) overtook this one: its own deployment decides.
      this.retire(slot, running, slot.current === running);
      return;
    }
    this.logs.append(serviceId, 'system', `Configuration ${version} is Healthy.`);
  }

  /**
   * {@link acquire}'s common case without a promise: the runtime serving the entry's
   * current configuration, counted in flight; undefined when {@link acquire} must decide.
   */
  acquireNow(entry: ServiceEntry): RunningRuntime | undefined {
    const running = this.slots.get(entry.id)?.current;
    if (!running || running.configVersion !== entry.configVersion || entry.state === 'Failed') return undefined;
    running.inFlight++;
    return running;
  }

  /**
   * The runtime to score `entry` with, counted in flight until {@link release}.
   * 409 while the service is not Healthy and this replica has nothing to serve it with;
   * 502 when it cannot be started here.
   */
  async acquire(entry: ServiceEntry): Promise<RunningRuntime> {
    if (entry.state === 'Failed') throw new TesseraError('Conflict', `The web service '${entry.name}' is not Healthy (Failed): ${entry.error ?? 'its deployment failed'}`);
    const slot = this.slotOf(entry.id, entry);
    let running = slot.current;
    if (!running || running.configVersion !== entry.configVersion) {
      if (entry.state !== 'Healthy') {
        // Transitioning: an older runtime keeps serving until the new one is in.
        if (!running) throw new TesseraError('Conflict', `The web service '${entry.name}' is not Healthy yet (Transitioning): retry in a moment.`);
      } else if (running) {
        this.startInBackground(slot, entry);
      } else {
        running = await this.startShared(slot, entry).catch((err: unknown) => {
          throw new TesseraError('BadGateway', `The web service '${entry.name}' could not be started on this server: ${err instanceof Error ? publicDeploymentError(err.message.slice(0, 1000)) : 'unknown error'}`);
        });
      }
    }
    running.inFlight++;
    return running;
  }

  /** Ends a request begun with {@link acquire}. */
  release(running: RunningRuntime): void {
    running.inFlight--;
    if (running.retired && running.inFlight === 0) void this.stopRuntime(running);
  }

  /** Follows the directory: limits, other replicas' deployments, deletions. */
  onDirectoryEvent(event: DirectoryEvent): void {
    const slot = this.slots.get(event.entry.id);
    if (event.kind === 'removed') {
      if (slot) {
        slot.gone = true;
        this.slots.delete(event.entry.id);
        this.retire(slot, slot.current, true);
      }
      this.logs.forget(event.entry.id);
      void fs.promises.rm(path.join(this.policy.runtimeDir, event.entry.id), { recursive: true, force: true }).catch(() => undefined);
      return;
    }
    if (!slot) return;
    const entry = event.entry;
    slot.queue.resize(entry.replicas, entry.maxQueueSize);
    if (entry.state === 'Failed') this.retire(slot, slot.current, true);
    else if (entry.state === 'Healthy' && slot.current && slot.current.configVersion !== entry.configVersion) this.startInBackground(slot, entry);
  }

  /** Stops every runtime (server close). */
  async stopAll(): Promise<void> {
    this.closed = true;
    const stops: Promise<void>[] = [];
    for (const slot of this.slots.values()) {
      slot.gone = true;
      if (slot.current) stops.push(this.stopRuntime(slot.current));
      for (const starting of slot.starting.values()) stops.push(starting.then((r) => this.stopRuntime(r), () => undefined));
    }
    this.slots.clear();
    await Promise.all(stops);
  }

  private slotOf(serviceId: string, entry?: ServiceEntry): Slot {
    let slot = this.slots.get(serviceId);
    if (!slot) {
      slot = { current: undefined, starting: new Map(), queue: new RequestQueue(entry?.replicas ?? 1, entry?.maxQueueSize ?? this.policy.queueSize), failedAt: 0, gone: false };
      this.slots.set(serviceId, slot);
    }
    return slot;
  }

  private startInBackground(slot: Slot, entry: ServiceEntry): void {
    if (slot.starting.has(entry.configVersion) || Date.now() - slot.failedAt < RETRY_FAILED_START_MS) return;
    this.startShared(slot, entry).catch((err: unknown) => this.logs.append(entry.id, 'system', `Starting configuration ${entry.configVersion} on this replica failed: ${publicDeploymentError(err instanceof Error ? err.message : String(err))}`));
  }

  /** Starts the entry's configuration once, however many requests ask. */
  private startShared(slot: Slot, entry: ServiceEntry): Promise<RunningRuntime> {
    if (slot.current && slot.current.configVersion === entry.configVersion) return Promise.resolve(slot.current);
    const pending = slot.starting.get(entry.configVersion);
    if (pending) return pending;
    if (Date.now() - slot.failedAt < RETRY_FAILED_START_MS) return Promise.reject(new Error('its last start on this replica failed moments ago'));
    return this.start(slot, entry.id, entry.configVersion);
  }

  /** Lays out and starts a configuration, then swaps it in (shared through `slot.starting`). */
  private start(slot: Slot, serviceId: string, version: number): Promise<RunningRuntime> {
    const existing = slot.starting.get(version);
    if (existing) return existing;
    const promise = (async () => {
      const running = await this.launch(serviceId, version);
      if (slot.gone || this.closed) {
        await this.stopRuntime(running);
        throw new Error('the service was deleted while it started');
      }
      // Swap in unless something newer is already serving.
      if (!slot.current || slot.current.configVersion < version) {
        const old = slot.current;
        slot.current = running;
        if (old) this.retire(slot, old, false);
      }
      return running;
    })();
    slot.starting.set(version, promise);
    promise.then(
      () => slot.starting.delete(version),
      () => {
        slot.starting.delete(version);
        slot.failedAt = Date.now();
      },
    );
    return promise;
  }

  private async launch(serviceId: string, version: number): Promise<RunningRuntime> {
    const source = await this.services.deploymentSource(serviceId);
    if (!source) throw new Error('the service no longer exists');
    const { row } = source;
    const directory = path.join(this.policy.runtimeDir, serviceId, String(version));
    await fs.promises.rm(directory, { recursive: true, force: true });
    await fs.promises.mkdir(directory, { recursive: true, mode: 0o700 });
    if (row.entry_script_name !== null) {
      await fs.promises.writeFile(path.join(directory, row.entry_script_name), row.entry_script ?? '', { mode: 0o600 });
    }
    const models: RuntimeModel[] = [];
    if (source.models.length > 0) {
      const catalog = this.services.modelCatalog();
      if (!catalog) throw new Error('no model registry is available to lay out its models');
      for (const model of source.models) models.push({ name: model.name, version: model.version, path: await catalog.materialize(model) });
    }
    const log = (line: string, stream: 'stdout' | 'stderr' | 'system') => this.logs.append(serviceId, stream, line);
    const kind = row.runtime as 'python' | 'javascript' | 'onnx';
    // Scripts always go through the sandbox (which may be off); ONNX only when asked to.
    const isolation = kind === 'onnx' ? this.sandbox.onnx : this.sandbox.scripts;
    const runtime = this.createRuntime(
      {
        serviceId,
        serviceName: row.name,
        kind,
        directory,
        ...(row.entry_script_name !== null ? { entryScript: row.entry_script_name } : {}),
        contract: source.contract,
        models,
        workers: row.replicas,
        memoryMb: Math.round(row.memory_gb * 1024),
        cpuCores: row.cpu_cores,
        ...(isolation ? { isolation } : {}),
        initTimeoutMs: this.policy.initTimeoutMs,
        python: this.policy.python,
        answerLimit: answerLimitFor(this.policy.bodyLimit),
      },
      log,
    );
    try {
      await runtime.start();
    } catch (err) {
      await runtime.stop().catch(() => undefined);
      throw err;
    }
    return { serviceId, configVersion: version, runtime, directory, inFlight: 0, retired: false };
  }

  /** Takes a runtime out of service; it stops now (`now`) or when its last request ends. */
  private retire(slot: Slot, running: RunningRuntime | undefined, now: boolean): void {
    if (!running) return;
    if (slot.current === running) slot.current = undefined;
    running.retired = true;
    if (now || running.inFlight === 0) void this.stopRuntime(running);
  }

  private async stopRuntime(running: RunningRuntime): Promise<void> {
    running.retired = true;
    try {
      await running.runtime.stop();
    } catch (err) {
      this.onError(err, 'stopping a runtime');
    }
    await fs.promises.rm(running.directory, { recursive: true, force: true }).catch(() => undefined);
  }
}
