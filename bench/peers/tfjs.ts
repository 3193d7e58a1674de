// The peer the benchmarks compare with: TensorFlow.js's WebGPU backend on the same adapter, in the same
// process. It finds WebGPU at navigator.gpu, as in a page; in Node that is Dawn's GPU object.
import { nodeGPU, waitWithoutSpinning } from '../../src/gpu/node';
import { median } from '../../src/gpu/timing';

export type Tf = typeof import('@tensorflow/tfjs-core');
export type TfTensor = import('@tensorflow/tfjs-core').Tensor;

export interface TfjsPeer {
  tf: Tf;
  /** Median milliseconds of `run` over `runs` timed runs after one untimed run (which compiles), each waited for on the device. */
  time(run: () => TfTensor, runs: number): Promise<number>;
}

export async function startTfjs(): Promise<TfjsPeer> {
  const gpu = await nodeGPU();
  (globalThis as { navigator?: unknown }).navigator = { gpu };
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js: the webgpu backend did not initialise');
  await tf.ready();
  const backend = tf.backend() as unknown as { device: GPUDevice; ensureCommandEncoderReady(): void; endComputePassEncoder(): void; submitQueue(): void };
  const finish = async () => {
    // Submit whatever TF.js has encoded (it batches like our runtime), then wait for the queue the way
    // our runtime waits in Node (without spinning a core), so that both run on the same CPU time.
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.submitQueue();
    await waitWithoutSpinning(backend.device.queue.onSubmittedWorkDone());
  };
  return {
    tf,
    async time(run, runs) {
      const times: number[] = [];
      for (let i = 0; i <= runs; i++) {
        await finish();
        const start = performance.now();
        const out = run();
        await finish();
        if (i > 0) times.push(performance.now() - start);
        out.dispose();
      }
      return median(times);
    },
  };
}
