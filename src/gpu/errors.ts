// Errors the runtime raises. Each names the kernel (or kernels) involved, so a failure in a batch of
// hundreds of dispatches points at the shader to look at.

export class GpuValidationError extends Error {
  override name = 'GpuValidationError';
  constructor(
    readonly kernels: string[],
    readonly gpuMessage: string,
  ) {
    super(`WebGPU validation failed in kernel ${kernels.map((k) => `"${k}"`).join(', ')}: ${gpuMessage}`);
  }
}

export class GpuOutOfMemoryError extends Error {
  override name = 'GpuOutOfMemoryError';
  constructor(
    readonly kernels: string[],
    gpuMessage: string,
  ) {
    super(`GPU out of memory in ${kernels.join(', ') || 'an allocation'}: ${gpuMessage}`);
  }
}

export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(
    readonly reason: string,
    readonly gpuMessage: string,
  ) {
    super(`the GPU device was lost (${reason}): ${gpuMessage || 'no message from the driver'}`);
  }
}
