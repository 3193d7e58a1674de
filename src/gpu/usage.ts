// WebGPU's flag values, fixed by the specification. Spelled out here because the GPUBufferUsage and
// GPUMapMode globals exist in Node only after the host installs Dawn's globals, and engine modules must
// not depend on when that happens.
export const BufferUsage = {
  MAP_READ: 0x1,
  MAP_WRITE: 0x2,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  UNIFORM: 0x40,
  STORAGE: 0x80,
  QUERY_RESOLVE: 0x200,
} as const;

export const MapMode = { READ: 0x1, WRITE: 0x2 } as const;
