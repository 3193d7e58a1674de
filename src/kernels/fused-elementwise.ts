// Launcher of generated elementwise kernels: one dispatch computes one or more fused expressions
// (src/kernels/fused-expression.ts) of broadcast inputs, each into its own contiguous output.
// The generated source is cached by the expressions' keys; the runtime's pipeline cache then serves
// every shape with one pipeline per merged rank.
import skeleton from '../../shaders/fused_elementwise.wgsl';
import type { Runtime } from '../gpu/runtime';
import { fillSkeleton, kernelSource } from '../gpu/shader';
import { Uniforms } from '../gpu/uniforms';
import { collapseAxes } from './axes';
import { MAX_RANK, packShape8 } from './elementwise';
import { expressionCode, FUSED_HELPERS, usedInputs, type FusedExpr } from './fused-expression';
import { ELEMENTWISE_WORKGROUP } from './fill';

export interface FusedOperand {
  buffer: GPUBuffer;
  /** Strides over the output's axes, in elements: 0 on broadcast axes. */
  strides: readonly number[];
}

interface FusedProgram {
  source: string;
  /** Operand indices bound by the kernel, in binding order (inputs no expression reads are left out). */
  inputs: number[];
}

const programs = new Map<string, FusedProgram>();

function program(outputs: readonly FusedExpr[]): FusedProgram {
  const key = outputs.map((e) => e.key).join(';');
  let p = programs.get(key);
  if (p) return p;
  const inputs = usedInputs(outputs);
  // Input k (operand inputs[k]) is bound as in{k} and read as v{k}; its offset is o{k}.
  const slot = new Map(inputs.map((operand, k) => [operand, k]));
  const { statements, results } = expressionCode(outputs, (operand) => `v${slot.get(operand)}`);
  const ks = inputs.map((_, k) => k);
  const bindings = [
    ...ks.map((k) => `@group(0) @binding(${k}) var<storage, read> in${k}: array<f32>;`),
    ...outputs.map((_, j) => `@group(0) @binding(${inputs.length + j}) var<storage, read_write> out${j}: array<f32>;`),
    `@group(0) @binding(${inputs.length + outputs.length}) var<uniform> params: Params;`,
  ];
  const source = kernelSource(
    fillSkeleton(skeleton, {
      // At least one vec pair, so the struct stays valid for expressions of constants only.
      CONSTANTS: `const STRIDE_VECS: u32 = ${2 * Math.max(1, inputs.length)}u;\n${FUSED_HELPERS}`,
      BINDINGS: bindings.join('\n'),
      OFFSETS_INIT: ks.map((k) => `  var o${k} = 0u;`).join('\n'),
      OFFSETS_STEP: ks.map((k) => `    o${k} += coord * stride(${k}u, d);`).join('\n'),
      OFFSETS_LAST: ks.map((k) => `  o${k} += rest * stride(${k}u, 0u);\n  let v${k} = in${k}[o${k}];`).join('\n'),
      BODY: [...statements.map((s) => `  ${s}`), ...results.map((r, j) => `  out${j}[i] = ${r};`)].join('\n'),
    }, 'fused elementwise codegen'),
  );
  p = { source, inputs };
  programs.set(key, p);
  return p;
}

/** The kernel's name in profiles and errors: the caller's label, else the first output's ops, abbreviated. */
function kernelName(outputs: readonly FusedExpr[], label?: string): string {
  const count = outputs.length > 1 ? ` x${outputs.length}` : '';
  if (label) return `fused ${label}${count}`;
  const ops = outputs[0]!.key.replace(/in\d+|[-\d.e]+(?=[,)\]])/g, '').replace(/[(),[\]]+/g, ' ').trim();
  return `fused (${ops.length > 40 ? `${ops.slice(0, 40)}...` : ops})${count}`;
}

/** How many storage buffers a fused kernel computing `outputs` binds. */
export function fusedBindings(outputs: readonly FusedExpr[]): number {
  return usedInputs(outputs).length + outputs.length;
}

/**
 * out[j][shape] = outputs[j](inputs) for every element, in one dispatch. Expressions refer to inputs
 * by their position in `inputs`. `label` names the kernel in profiles.
 */
export function fusedElementwise(
  runtime: Runtime,
  outputs: readonly FusedExpr[],
  shape: readonly number[],
  inputs: readonly FusedOperand[],
  out: readonly GPUBuffer[],
  label?: string,
): void {
  if (outputs.length === 0 || outputs.length !== out.length) throw new RangeError(`fusedElementwise: ${outputs.length} expressions for ${out.length} outputs`);
  if (shape.length > MAX_RANK) throw new RangeError(`fusedElementwise: rank up to ${MAX_RANK}, got ${shape.length}`);
  const p = program(outputs);
  for (const operand of p.inputs) {
    const input = inputs[operand];
    if (!input) throw new RangeError(`fusedElementwise: an expression reads input ${operand}, but ${inputs.length} inputs were given`);
    if (input.strides.length !== shape.length) throw new RangeError(`fusedElementwise: input ${operand} has ${input.strides.length} strides for an output of rank ${shape.length}`);
  }
  const limit = runtime.limits.maxStorageBuffersPerShaderStage;
  if (p.inputs.length + outputs.length > limit) {
    throw new RangeError(`fusedElementwise: ${p.inputs.length} inputs and ${outputs.length} outputs exceed the adapter's ${limit} storage buffers per kernel`);
  }
  const n = shape.reduce((a, d) => a * d, 1);
  if (n === 0) return;
  const merged = collapseAxes(shape, p.inputs.map((k) => inputs[k]!.strides));
  // n, the shape (two vec4) and two vec4 of strides per input: past the default 256 bytes from 6 inputs.
  const u = new Uniforms(new ArrayBuffer(48 + 32 * Math.max(1, p.inputs.length))).u32(n);
  packShape8(u, merged.shape);
  for (const strides of merged.strides) packShape8(u, strides);
  if (p.inputs.length === 0) packShape8(u, []);
  runtime.dispatch({
    kernel: kernelName(outputs, label),
    source: p.source,
    constants: { RANK: merged.shape.length },
    buffers: [...p.inputs.map((k) => inputs[k]!.buffer), ...out],
    uniforms: u.bytes(),
    workgroups: Math.ceil(n / ELEMENTWISE_WORKGROUP),
  });
}
