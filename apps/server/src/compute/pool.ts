import { Worker } from 'node:worker_threads';
import { ApiError } from '@emberscope/api';
import {
  errorFromTask,
  outputWires,
  runsInline,
  runTask,
  type TaskError,
  type TaskInput,
  type TaskName,
  type TaskOutput,
} from './tasks.js';

interface Job {
  id: number;
  task: TaskName;
  input: unknown;
  resolve(output: unknown): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  timer?: NodeJS.Timeout;
}

/**
 * Runs large computations (flame graph building, decoding uploads, …) on worker threads so that a long
 * merge never stalls ingest or /ready on the event loop, and so that ingestion uses more than one core. A task that exceeds the timeout has its worker terminated
 * (the only way to stop synchronous work) and fails with deadline_exceeded; the worker is replaced.
 */
export class ComputePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    size: number,
    private readonly timeoutMs: number,
    /** What the pool computes, for the timeout message: "query computation", "profile decoding". */
    private readonly what = 'query computation',
  ) {
    for (let i = 0; i < size; i++) this.slots.push({ worker: this.spawn() });
  }

  run<T extends TaskName>(task: T, input: TaskInput<T>): Promise<TaskOutput<T>> {
    if (this.slots.length === 0 || runsInline(task, input))
      return Promise.resolve().then(() => runTask(task, input));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, input, resolve: resolve as (o: unknown) => void, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.reject(new ApiError('unavailable', 'server is shutting down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Worker {
    // Always the compiled worker: tests run this module from src/, where no .js worker exists.
    const worker = new Worker(new URL('../../dist/compute/worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (msg: { id: number; output?: unknown; error?: TaskError }) => {
      const slot = this.slots.find((s) => s.worker === worker);
      const job = slot?.job;
      if (!slot || !job || job.id !== msg.id) return;
      this.finish(slot);
      if (msg.error !== undefined) job.reject(errorFromTask(msg.error));
      else job.resolve(outputWires[job.task]?.unpack(msg.output) ?? msg.output);
    });
    worker.on('error', (err) => this.replace(worker, err));
    return worker;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.timer = setTimeout(() => {
        job.reject(
          new ApiError('deadline_exceeded', `${this.what} took longer than its ${this.timeoutMs} ms timeout`),
        );
        slot.job = undefined;
        void this.replace(slot.worker);
      }, this.timeoutMs);
      slot.worker.postMessage({ id: job.id, task: job.task, input: job.input });
    }
  }

  private finish(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.job = undefined;
    this.dispatch();
  }

  private async replace(worker: Worker, err?: Error): Promise<void> {
    const slot = this.slots.find((s) => s.worker === worker);
    if (!slot) return;
    if (slot.job && err) slot.job.reject(err);
    clearTimeout(slot.timer);
    slot.job = undefined;
    await worker.terminate();
    if (this.closed) return;
    slot.worker = this.spawn();
    this.dispatch();
  }
}
