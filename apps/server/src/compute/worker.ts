import { parentPort } from 'node:worker_threads';
import { runTask, type TaskName, taskError } from './tasks.js';

/** A compute worker: runs one task per message and answers with its result or error. */
parentPort?.on('message', (msg: { id: number; task: TaskName; input: never }) => {
  try {
    parentPort?.postMessage({ id: msg.id, output: runTask(msg.task, msg.input) });
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, error: taskError(err) });
  }
});
