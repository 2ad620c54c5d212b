import { parentPort } from 'node:worker_threads';
import { outputWires, runTask, type TaskName, taskError } from './tasks.js';

/** A compute worker: runs one task per message and answers with its result or error. */
parentPort?.on('message', (msg: { id: number; task: TaskName; input: never }) => {
  try {
    const output = runTask(msg.task, msg.input);
    const wire = outputWires[msg.task];
    if (!wire) {
      parentPort?.postMessage({ id: msg.id, output });
      return;
    }
    const { message, transfer } = wire.pack(output as never);
    parentPort?.postMessage({ id: msg.id, output: message }, transfer);
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, error: taskError(err) });
  }
});
