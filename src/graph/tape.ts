// Recording operations and running them backwards.
//
// An op records a GradNode on its output when grad mode is on and any input requires a gradient.
// backward() visits each node once, in reverse topological order, summing the gradients of a tensor
// that feeds several ops before passing them on (all of them at once, in one kernel, when it gets there).
import { keep, isGradEnabled, noGrad } from './scope';
import { sameShape, shapeString, Tensor, type GradNode } from './tensor';

/** Attaches the node to `output` if any input needs a gradient; returns `output`. */
export function record(output: Tensor, op: string, inputs: Tensor[], backward: GradNode['backward']): Tensor {
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    output.requiresGrad = true;
    output.node = { op, inputs, backward };
  }
  return output;
}

/**
 * Needed by backward() to sum gradients; set by ops/elementwise.ts. `sumAll` adds same-shape tensors
 * left to right (((t0 + t1) + t2) ...), returning a lone tensor as it is.
 */
let sumTensors: ((tensors: Tensor[]) => Tensor) | null = null;
let onesLike: ((t: Tensor) => Tensor) | null = null;

export function registerGradHelpers(sumAll: (tensors: Tensor[]) => Tensor, ones: (t: Tensor) => Tensor): void {
  sumTensors = sumAll;
  onesLike = ones;
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative depth-first search: deep networks would overflow a recursive one.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [tensor, next] = top;
    const inputs = tensor.node?.inputs ?? [];
    if (next < inputs.length) {
      top[1]++;
      const input = inputs[next]!;
      if (input.requiresGrad && !seen.has(input)) {
        seen.add(input);
        stack.push([input, 0]);
      }
    } else {
      order.push(tensor);
      stack.pop();
    }
  }
  return order.reverse();
}

/**
 * Gradients of `root` with respect to every leaf that requires one, accumulated into leaf.grad.
 * `seed` is d(something)/d(root); it defaults to ones (so a scalar loss gets d loss / d leaf).
 */
export function backward(root: Tensor, seed?: Tensor): void {
  if (!root.requiresGrad) throw new Error(`backward(): ${root} does not require a gradient (no input of its graph does)`);
  if (!sumTensors || !onesLike) throw new Error('backward(): the elementwise ops are not loaded');
  if (seed && !sameShape(seed.shape, root.shape)) {
    throw new Error(`backward(): seed shape ${shapeString(seed.shape)} differs from ${shapeString(root.shape)}`);
  }
  const sumAll = sumTensors;
  noGrad(() => {
    // Every consumer of a tensor comes before it in the order, so its contributions are all in by then.
    const grads = new Map<Tensor, Tensor[]>();
    grads.set(root, [seed ?? onesLike!(root)]);
    for (const tensor of topologicalOrder(root)) {
      const contributions = grads.get(tensor);
      if (!contributions) continue;
      const grad = sumAll(contributions);
      if (!tensor.node) {
        // A leaf: its gradient outlives the caller's scope.
        const total = tensor.grad ? sumAll([tensor.grad, grad]) : grad;
        tensor.grad?.dispose();
        tensor.grad = keep(total);
        continue;
      }
      const inputGrads = tensor.node.backward(grad);
      tensor.node.inputs.forEach((input, i) => {
        const g = inputGrads[i];
        if (!g || !input.requiresGrad) return;
        if (!sameShape(g.shape, input.shape)) {
          throw new Error(`backward of ${tensor.node!.op}: gradient ${shapeString(g.shape)} for an input of shape ${shapeString(input.shape)}`);
        }
        const previous = grads.get(input);
        if (previous) previous.push(g);
        else grads.set(input, [g]);
      });
    }
  });
}
