// How a runtime waits for the promises the WebGPU implementation settles (a buffer map, the queue's
// completion, an error scope). A page awaits them; the Node host passes waitWithoutSpinning (node.ts),
// since Dawn's binding polls from setImmediate for as long as the GPU works.
export type GpuWait = <T>(work: Promise<T>) => Promise<T>;

export const plainAwait: GpuWait = (work) => work;
