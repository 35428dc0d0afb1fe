/**
 * Function instances: each is a worker thread that loads the function's bundle once (a cold start) and then runs
 * one invocation at a time, like an FC instance of a built-in runtime (instance concurrency 1). The worker gets the
 * function's own `process.env` and a heap limit of its `memorySize`, so functions in one host do not share
 * configuration. An invocation past the function's `timeout` is rejected and its instance destroyed, as FC does.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';

/** The FC 3.0 `context` the host passes (the worker adds `logger`). */
export interface HostContext {
  requestId: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined };
  function: { name: string; handler: string; memory: number; timeout: number };
  service: { logProject: string; logStore: string; qualifier: string; versionId: string };
  region: string;
  accountId: string;
  retryCount: number;
}

/** A function error as FC reports it (`x-fc-error-type: UnhandledInvocationError`, or a timeout). */
export class FunctionError extends Error {
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    readonly errorMessage: string,
    readonly requestId: string,
    readonly stackTrace: string[] = [],
  ) {
    super(`${functionName} (${requestId}): ${errorType}: ${errorMessage}`);
    this.name = 'FunctionError';
  }
  /** True when the function ran out of its `timeout`. */
  get timedOut(): boolean {
    return this.errorType === 'FunctionTimeout';
  }
}

/** What the pool needs to know about a function. */
export interface InstanceSpec {
  name: string;
  /** Absolute path of the code folder. */
  codeDir: string;
  /** `file.export`, e.g. `index.handler`. */
  handler: string;
  memorySize: number;
  /** Seconds. */
  timeout: number;
  /** The complete `process.env` of the instance. */
  env: Record<string, string>;
}

/** Counters of one function. */
export interface InstanceStats {
  invocations: number;
  errors: number;
  timeouts: number;
  coldStarts: number;
  /** Instances alive now. */
  instances: number;
}

/** Receives each line a function writes to stdout/stderr. */
export type LogSink = (functionName: string, stream: 'stdout' | 'stderr', line: string) => void;

// Runs inside the worker: CommonJS, no TypeScript, so it works under tsx, vitest and plain node alike.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const dot = workerData.handler.lastIndexOf('.');
const file = require('node:path').join(workerData.codeDir, workerData.handler.slice(0, dot));
const exportName = workerData.handler.slice(dot + 1);
let fn;
try {
  fn = require(file)[exportName];
  if (typeof fn !== 'function') throw new TypeError(workerData.handler + ' is not a function exported by ' + file);
} catch (err) {
  parentPort.postMessage({ type: 'init-error', errorType: (err && err.name) || 'Error', errorMessage: String((err && err.message) || err) });
}
const log = (level, requestId) => (...args) => console.log(new Date().toISOString(), requestId, '[' + level + ']', ...args);
parentPort.on('message', async (msg) => {
  const context = Object.assign({}, msg.context, {
    logger: { debug: log('DEBUG', msg.context.requestId), info: log('INFO', msg.context.requestId), warn: log('WARN', msg.context.requestId), error: log('ERROR', msg.context.requestId) },
  });
  try {
    const out = await fn(Buffer.from(msg.event), context);
    let body;
    if (Buffer.isBuffer(out)) body = out;
    else if (out === undefined || out === null) body = Buffer.alloc(0);
    else if (typeof out === 'object') body = Buffer.from(JSON.stringify(out), 'utf8');
    else body = Buffer.from(String(out), 'utf8');
    parentPort.postMessage({ type: 'result', id: msg.id, ok: true, body });
  } catch (err) {
    parentPort.postMessage({
      type: 'result', id: msg.id, ok: false,
      errorType: (err && err.name) || 'Error',
      errorMessage: String((err && err.message) || err),
      stackTrace: String((err && err.stack) || '').split('\\n').slice(1, 11).map((s) => s.trim()),
    });
  }
});
`;

interface Job {
  id: number;
  event: Buffer;
  context: HostContext;
  resolve(body: Buffer): void;
  reject(err: Error): void;
}

interface Instance {
  worker: Worker;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
  dead: boolean;
}

/** A function's instances and its queue of invocations. */
export class InstancePool {
  readonly stats: InstanceStats = { invocations: 0, errors: 0, timeouts: 0, coldStarts: 0, instances: 0 };
  private readonly idleInstances: Instance[] = [];
  private readonly all = new Set<Instance>();
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    readonly spec: InstanceSpec,
    private readonly options: { maxInstances: number; log: LogSink },
  ) {}

  /** Runs one invocation; resolves to the converted return value, rejects with {@link FunctionError}. */
  invoke(event: Buffer, context: HostContext): Promise<Buffer> {
    if (this.closed) return Promise.reject(new FunctionError(this.spec.name, 'HostClosed', 'the local host is closed', context.requestId));
    this.stats.invocations++;
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ id: ++this.nextId, event, context, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let instance = this.idleInstances.pop();
      if (!instance) {
        if (this.all.size >= this.options.maxInstances) return;
        instance = this.spawn();
      }
      const job = this.queue.shift() as Job;
      this.run(instance, job);
    }
  }

  private spawn(): Instance {
    this.stats.coldStarts++;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      env: this.spec.env,
      workerData: { codeDir: this.spec.codeDir, handler: this.spec.handler },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, this.spec.memorySize) },
      name: this.spec.name,
    });
    const instance: Instance = { worker, job: undefined, timer: undefined, dead: false };
    this.all.add(instance);
    this.stats.instances = this.all.size;
    for (const stream of ['stdout', 'stderr'] as const) {
      let rest = '';
      worker[stream].setEncoding('utf8');
      worker[stream].on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) this.options.log(this.spec.name, stream, line);
      });
      worker[stream].on('end', () => {
        if (rest) this.options.log(this.spec.name, stream, rest);
      });
    }
    worker.on('message', (msg: { type: string; id?: number; ok?: boolean; body?: Uint8Array; errorType?: string; errorMessage?: string; stackTrace?: string[] }) => {
      if (msg.type === 'init-error') {
        this.kill(instance, msg.errorType ?? 'InitializationError', msg.errorMessage ?? 'the function failed to load');
        return;
      }
      const job = instance.job;
      if (!job || msg.id !== job.id) return;
      this.finish(instance);
      if (msg.ok) {
        const body = msg.body ?? new Uint8Array();
        job.resolve(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      } else {
        this.stats.errors++;
        job.reject(new FunctionError(this.spec.name, msg.errorType ?? 'Error', msg.errorMessage ?? '', job.context.requestId, msg.stackTrace));
      }
      this.release(instance);
    });
    worker.on('error', (err) => this.kill(instance, 'InstanceCrashed', err instanceof Error ? err.message : String(err)));
    worker.on('exit', (code) => this.kill(instance, 'InstanceExited', `the instance exited with code ${code}`));
    return instance;
  }

  private run(instance: Instance, job: Job): void {
    instance.job = job;
    instance.timer = setTimeout(() => {
      this.stats.timeouts++;
      this.kill(instance, 'FunctionTimeout', `Function timed out after ${this.spec.timeout} seconds`);
    }, this.spec.timeout * 1000);
    const event = new Uint8Array(job.event);
    instance.worker.postMessage({ id: job.id, event, context: job.context });
  }

  private finish(instance: Instance): void {
    if (instance.timer) clearTimeout(instance.timer);
    instance.timer = undefined;
    instance.job = undefined;
  }

  private release(instance: Instance): void {
    if (instance.dead) return;
    if (this.closed) {
      void instance.worker.terminate();
      return;
    }
    this.idleInstances.push(instance);
    this.dispatch();
  }

  /** Destroys an instance; its running invocation (if any) fails with `errorType`. */
  private kill(instance: Instance, errorType: string, message: string): void {
    if (instance.dead) return;
    instance.dead = true;
    const job = instance.job;
    this.finish(instance);
    this.all.delete(instance);
    this.stats.instances = this.all.size;
    const i = this.idleInstances.indexOf(instance);
    if (i >= 0) this.idleInstances.splice(i, 1);
    void instance.worker.terminate();
    if (job) {
      if (errorType !== 'FunctionTimeout') this.stats.errors++;
      job.reject(new FunctionError(this.spec.name, errorType, message, job.context.requestId));
    } else if (errorType === 'InitializationError' || this.all.size === 0) {
      // A function that cannot load fails the queued invocations instead of respawning forever.
      if (errorType !== 'InstanceExited') {
        for (const queued of this.queue.splice(0)) {
          this.stats.errors++;
          queued.reject(new FunctionError(this.spec.name, errorType, message, queued.context.requestId));
        }
      }
    }
    if (!this.closed) this.dispatch();
  }

  /** Terminates every instance; queued invocations fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new FunctionError(this.spec.name, 'HostClosed', 'the local host is closed', job.context.requestId));
    await Promise.all([...this.all].map((i) => i.worker.terminate()));
  }
}

/** Absolute path of the bundle a handler string points at (`index.handler` → `<codeDir>/index.js`). */
export function bundleFile(codeDir: string, handler: string): string {
  const dot = handler.lastIndexOf('.');
  return join(codeDir, `${handler.slice(0, dot)}.js`);
}
