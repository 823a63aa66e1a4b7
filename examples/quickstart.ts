// Quick start: define a small segmentation network in TypeScript, run it on onnxruntime-node,
// and export the very same graph as a standalone .onnx file that any ONNX runtime can load.
//   npx tsx examples/quickstart.ts [out.onnx]
import { writeFileSync } from 'node:fs';
import { BatchNorm2d, Conv2d, HostTensor, Module, compileModule, exportModuleOnnx, manualSeed, nodeRuntime, type Tensor } from '../src/index.js';

/** conv-BN-ReLU ×2 down to 1/4 resolution, a 1×1 classifier, bilinear back to full size. */
class TinySegNet extends Module {
  conv1 = this.module('conv1', new Conv2d(3, 16, 3, { stride: 2, padding: 1, bias: false }));
  bn1 = this.module('bn1', new BatchNorm2d(16));
  conv2 = this.module('conv2', new Conv2d(16, 32, 3, { stride: 2, padding: 1, bias: false }));
  bn2 = this.module('bn2', new BatchNorm2d(32));
  classifier = this.module('classifier', new Conv2d(32, 11, 1));

  forward(x: Tensor): Tensor {
    const y = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu())).relu();
    return this.classifier.forward(y).resize({ size: [x.shape[2]!, x.shape[3]!], alignCorners: false });
  }
}

manualSeed(0);
const model = new TinySegNet().eval();
const [h, w] = [360, 480];
const image = HostTensor.zeros([1, 3, h, w]);
image.f32.forEach((_, i) => (image.f32[i] = Math.sin(i / 97)));

const net = compileModule(model, { runtime: nodeRuntime });
await net.run(image); // first call traces, writes ONNX and creates the session
const t0 = performance.now();
const logits = (await net.run(image)) as HostTensor;
console.log(`logits ${logits.shape.join('×')} in ${(performance.now() - t0).toFixed(1)} ms; ${model.numParameters()} parameters`);

const out = process.argv[2] ?? 'tiny-segnet.onnx';
writeFileSync(out, exportModuleOnnx(model, [{ shape: [1, 3, h, w] }], { metadata: { classes: String(11) } }));
console.log(`wrote ${out} (ONNX opset 17): the same graph, loadable by onnxruntime-node/web or any ONNX runtime`);
await net.dispose();
