/**
 * TensorFlow.js core on its CPU backend, with its whole gradient table: the independent framework
 * the engine's derived models are checked against. tfjs-core's Node bundle leaves the gradient
 * table out (the @tensorflow/tfjs union package registers it), so it is registered here, once,
 * from tfjs-core's own modules; without it tf.grad fails on ops such as Transpose and AddN.
 * Those modules are ES modules with directory imports, which vitest transforms but plain Node
 * (tsx) refuses: import this file from tests only.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';

// PROD also silences the banner that recommends the native tfjs-node backend.
tf.env().set('PROD', true);

export { tf };
