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
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  /** Jobs posted to this worker and not answered yet, in the order the worker runs them. */
  jobs: Map<number, Job>;
}

/**
 * Runs large computations (flame graph building, decoding uploads, …) on worker threads so that a long
 * merge never stalls ingest or /ready on the event loop, and so that ingestion uses more than one core. A task that exceeds the timeout has its worker terminated
 * (the only way to stop synchronous work) and fails with deadline_exceeded; the worker is replaced, and the
 * other jobs it held run again on the new one.
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
    /**
     * Jobs posted to one worker at a time. More than one keeps a worker busy with short jobs (decoding
     * uploads) while the event loop is too busy to hand it the next one as soon as it answers; long jobs
     * (queries) take 1, so that none waits behind another while a worker is free.
     */
    private readonly perWorker = 1,
  ) {
    for (let i = 0; i < size; i++) this.slots.push({ worker: this.spawn(), jobs: new Map() });
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
    const unavailable = () => new ApiError('unavailable', 'server is shutting down');
    for (const job of this.queue.splice(0)) job.reject(unavailable());
    for (const slot of this.slots) this.settleAll(slot, unavailable());
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Worker {
    // Always the compiled worker: tests run this module from src/, where no .js worker exists.
    const worker = new Worker(new URL('../../dist/compute/worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (msg: { id: number; output?: unknown; error?: TaskError }) => {
      const slot = this.slots.find((s) => s.worker === worker);
      const job = slot?.jobs.get(msg.id);
      if (!slot || !job) return;
      clearTimeout(job.timer);
      slot.jobs.delete(msg.id);
      this.dispatch();
      if (msg.error !== undefined) job.reject(errorFromTask(msg.error));
      else job.resolve(outputWires[job.task]?.unpack(msg.output) ?? msg.output);
    });
    worker.on('error', (err) => this.replace(worker, err));
    return worker;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      while (slot.jobs.size < this.perWorker && this.queue.length > 0) {
        const job = this.queue.shift()!;
        slot.jobs.set(job.id, job);
        job.timer = setTimeout(() => {
          slot.jobs.delete(job.id);
          job.reject(
            new ApiError(
              'deadline_exceeded',
              `${this.what} took longer than its ${this.timeoutMs} ms timeout`,
            ),
          );
          this.replace(slot.worker);
        }, this.timeoutMs);
        slot.worker.postMessage({ id: job.id, task: job.task, input: job.input });
      }
    }
  }

  /** Clears the slot's jobs, rejecting them with `err`, or requeueing them first in line without it. */
  private settleAll(slot: Slot, err?: Error): void {
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    for (const job of jobs) clearTimeout(job.timer);
    if (err) for (const job of jobs) job.reject(err);
    else this.queue.unshift(...jobs);
  }

  /**
   * Terminates a worker and starts another. After an error the worker's jobs fail with it (which job
   * caused it is unknown); after a timeout (no error) they did nothing wrong and run again. The new worker
   * takes the slot at once, so no job is posted to the one being terminated.
   */
  private replace(worker: Worker, err?: Error): void {
    const slot = this.slots.find((s) => s.worker === worker);
    if (!slot) return;
    this.settleAll(slot, err);
    void worker.terminate();
    if (this.closed) return;
    slot.worker = this.spawn();
    this.dispatch();
  }
}
