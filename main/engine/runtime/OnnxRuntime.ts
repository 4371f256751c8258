/**
 * The one module that imports onnxruntime-node. It owns the choice of execution provider,
 * session options, the conversion between the engine's tensors (Float32Array and plain
 * numbers) and whatever dtypes a graph declares (fp16, int32/int64 ids, float or integer
 * timesteps), the clock of time spent inside `run()`, and disposal.
 *
 * Input names, dtypes and shapes always come from the session's metadata; callers ask for an
 * input by role (see main/engine/model) and feed float32 or numbers, and this module converts.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { PentimentoError } from '../errors';
import { fromFloat16, toFloat16 } from '../graph/fp16';
import { loadModel } from '../graph/ModelIO';
import { valueShape } from '../graph/onnx';

export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml';
export const PROVIDER_NAMES: readonly ProviderName[] = ['cpu', 'cuda', 'dml', 'coreml'];
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface RuntimeOptions {
  /** 'auto' (default), or one provider; `PENTIMENTO_PROVIDER` is read when this is absent. */
  provider?: string;
  /** Threads inside one operator; 0 (default) lets onnxruntime use one per physical core. */
  intraOpThreads?: number;
  graphOptimizationLevel?: GraphOptimizationLevel;
}

/** Session options that suit one model rather than every session (createSession's second argument). */
export interface SessionTuning {
  /**
   * onnxruntime's memory pattern (default on): from the second run of an input shape it
   * allocates one block laid out for all intermediate values. For VJP models, which keep the
   * forward activations until the backward pass reaches them, turning it off roughly halves
   * peak memory at the same speed (tiny UNet VJP at 512²: 1.2 instead of 2.05 GiB), and the
   * second run is then already a steady-state one.
   */
  memoryPattern?: boolean;
  /** Threads inside one operator for this session; overrides RuntimeOptions.intraOpThreads. */
  intraOpThreads?: number;
}

/** A graph input or output as the session declares it. */
export interface TensorInfo {
  name: string;
  /** onnxruntime's type name: 'float32', 'float16', 'int64', 'int32', … */
  dtype: string;
  /** Numbers for fixed dims, strings for symbolic ones; undefined when the rank is unknown. */
  shape: (number | string)[] | undefined;
}

/** What callers feed: float data as Float32Array (converted to fp16 when the graph wants it). */
export interface FeedTensor {
  data: Float32Array | Int32Array | BigInt64Array | readonly number[];
  dims: readonly number[];
}

/** What comes back: float outputs as Float32Array whatever the graph's float type. */
export interface OutputTensor {
  data: Float32Array;
  dims: number[];
}

// onnxruntime's native log goes straight to stderr in colour: its warnings (unused initialisers,
// fallbacks it handles itself) are not the user's concern, and a provider that cannot start logs
// a multi-line error from the process-wide logger before the exception comes back. That logger's
// level is fixed when the first session is created (onnxruntime-node's initOrtOnce), so a
// session's logSeverityLevel cannot quiet it; only fatal messages get through. Every error still
// comes back as an exception, whose text the engine keeps; PENTIMENTO_DEBUG=1 shows the log.
ort.env.logLevel = process.env.PENTIMENTO_DEBUG ? 'warning' : 'fatal';

const FLOAT_TYPES = new Set(['float32', 'float16', 'float64']);
const INT_TYPES = new Set(['int32', 'int64', 'int8', 'uint8', 'int16', 'uint16', 'uint32', 'uint64']);

/** Auto order per platform: the platform's GPU provider first, then the CPU. */
function autoProviders(platform: NodeJS.Platform): ProviderName[] {
  if (platform === 'linux') return ['cuda', 'cpu'];
  if (platform === 'win32') return ['dml', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'cpu'];
  return ['cpu'];
}

function normaliseProvider(name: string): ProviderName | 'auto' {
  const n = name.trim().toLowerCase();
  if (n === '' || n === 'auto') return 'auto';
  if (n === 'directml') return 'dml';
  if ((PROVIDER_NAMES as readonly string[]).includes(n)) return n as ProviderName;
  throw new PentimentoError(
    'BAD_ARGUMENT',
    `Unknown execution provider "${name}"; use one of auto, ${PROVIDER_NAMES.join(', ')}.`,
    { provider: name, valid: ['auto', ...PROVIDER_NAMES] },
  );
}

/**
 * The CUDA provider is a separate shared library that onnxruntime-node's installer downloads
 * only on request; without it, asking for CUDA fails loudly in native code, so look first.
 */
function cudaLibraryPresent(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const bin = path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    return fs.existsSync(path.join(bin, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
}

function providerUnavailable(provider: ProviderName, reason: string): PentimentoError {
  return new PentimentoError('PROVIDER_UNAVAILABLE', `The ${provider} execution provider is not usable here (${reason}). Use --provider cpu or auto.`, {
    provider,
    reason,
  });
}

/** Maps onnxruntime's raw error text onto the engine's error codes. */
function translateError(e: unknown, file: string, during: string): PentimentoError {
  if (e instanceof PentimentoError) return e;
  const text = errorText(e);
  if (/out of memory|bad_alloc|failed to allocate|cudaErrorMemoryAllocation/i.test(text)) {
    return new PentimentoError(
      'OUT_OF_MEMORY',
      `${file}: ran out of memory while ${during} (${text}). Use a smaller image, close other programs, or use the CPU provider.`,
      { file },
    );
  }
  if (during === 'loading') {
    return new PentimentoError('BAD_MODEL', `${file}: onnxruntime cannot load this model (${text}). Check that the model folder is complete.`, {
      file,
    });
  }
  return new PentimentoError('INTERNAL', `${file}: onnxruntime failed while ${during} (${text}).`, { file });
}

/**
 * Chooses and remembers the execution provider, creates sessions, and keeps the clock of time
 * spent inside onnxruntime for all of them.
 */
export class OnnxRuntime {
  private readonly requested: ProviderName | 'auto';
  private candidates: ProviderName[];
  private chosen: ProviderName | undefined;
  /** Why the requested provider cannot start, known before trying (a forced CUDA without its library). */
  private unavailable: string | undefined;
  /** Why a preferred provider was passed over (empty when the first choice worked). */
  readonly fallbackReasons: string[] = [];
  private readonly sessions = new Set<ModelSession>();
  /** Milliseconds spent inside `run()` of every session, summed. */
  insideMs = 0;
  runCount = 0;

  constructor(private readonly options: RuntimeOptions = {}) {
    this.requested = normaliseProvider(options.provider ?? process.env.PENTIMENTO_PROVIDER ?? 'auto');
    this.candidates = this.requested === 'auto' ? autoProviders(process.platform) : [this.requested];
    if (this.candidates[0] === 'cuda' && process.platform === 'linux' && !cudaLibraryPresent()) {
      if (this.requested === 'cuda') {
        this.unavailable = 'its library libonnxruntime_providers_cuda.so is not installed; run npm run setup:cuda';
        return;
      }
      this.candidates = this.candidates.slice(1);
      this.fallbackReasons.push('cuda: the CUDA provider library (libonnxruntime_providers_cuda.so) is not installed');
    }
  }

  /**
   * Throws PROVIDER_UNAVAILABLE when the requested provider is known unusable before any session
   * is opened (a forced CUDA without its library), as createSession would; checks nothing else.
   */
  checkAvailable(): void {
    if (this.unavailable) throw providerUnavailable(this.provider, this.unavailable);
  }

  /** The provider sessions run on; before the first session, the one that will be tried first. */
  get provider(): ProviderName {
    return this.chosen ?? this.candidates[0];
  }

  /** One line for logs and the CLI: the provider, and why a preferred one was not used. */
  describeProvider(): string {
    const reasons = this.fallbackReasons.length ? ` (${this.fallbackReasons.join('; ')})` : '';
    return `${this.provider}${reasons}`;
  }

  private sessionOptions(provider: ProviderName, tuning: SessionTuning): ort.InferenceSession.SessionOptions {
    return {
      executionProviders: [provider],
      graphOptimizationLevel: this.options.graphOptimizationLevel ?? 'all',
      intraOpNumThreads: tuning.intraOpThreads ?? this.options.intraOpThreads ?? 0,
      enableMemPattern: tuning.memoryPattern ?? true,
      logSeverityLevel: 3,
    };
  }

  /**
   * Opens `file` on the chosen provider. In auto mode a provider that fails to start is
   * dropped (the reason is kept) and the next one is tried; an explicitly requested provider
   * that fails is PROVIDER_UNAVAILABLE.
   */
  async createSession(file: string, tuning: SessionTuning = {}): Promise<ModelSession> {
    if (!fs.existsSync(file)) throw new PentimentoError('MODEL_MISSING', `${file}: file not found.`, { file });
    this.checkAvailable();
    for (;;) {
      const provider = this.chosen ?? this.candidates[0];
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(file, this.sessionOptions(provider, tuning));
      } catch (e) {
        const text = errorText(e);
        const providerFault = provider !== 'cpu' && /provider|backend|shared library|cuda|dml|coreml|adapter/i.test(text);
        if (providerFault && this.requested !== 'auto') {
          throw providerUnavailable(provider, text);
        }
        if (providerFault && !this.chosen) {
          this.fallbackReasons.push(`${provider}: ${text}`);
          this.candidates = this.candidates.slice(1);
          continue;
        }
        throw translateError(e, file, 'loading');
      }
      this.chosen = provider;
      const wrapped = new ModelSession(this, session, file);
      this.sessions.add(wrapped);
      return wrapped;
    }
  }

  /** @internal called by ModelSession */
  forget(session: ModelSession): void {
    this.sessions.delete(session);
  }

  /** Resets the clock (the pipeline reads it per job). */
  resetClock(): void {
    this.insideMs = 0;
    this.runCount = 0;
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.dispose()));
  }
}

function toTensorInfo(m: ort.InferenceSession.ValueMetadata): TensorInfo {
  if (!m.isTensor) return { name: m.name, dtype: 'non-tensor', shape: undefined };
  return { name: m.name, dtype: m.type, shape: [...m.shape] };
}

/**
 * One model file's session. `inputs`/`outputs` are the graph's declarations; `run` takes
 * float32/number feeds and returns float32 outputs, converting to and from each input's dtype.
 */
export class ModelSession {
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  private disposed = false;

  constructor(
    private readonly runtime: OnnxRuntime,
    private readonly session: ort.InferenceSession,
    readonly file: string,
  ) {
    this.inputs = session.inputMetadata.map(toTensorInfo);
    this.outputs = session.outputMetadata.map(toTensorInfo);
    this.resolveUnknownRanks();
  }

  /**
   * onnxruntime reports both a scalar and an input of unknown rank as shape []; the graph's
   * own declaration tells them apart (a timestep may be either).
   */
  private resolveUnknownRanks(): void {
    if (!this.inputs.some((i) => i.shape && i.shape.length === 0)) return;
    let declared: Map<string, (number | string)[] | undefined>;
    try {
      const { model } = loadModel(this.file, { checkExternalData: false });
      declared = new Map(model.graph.input.map((v) => [v.name, valueShape(v)]));
    } catch {
      return;
    }
    for (const info of this.inputs) {
      if (info.shape && info.shape.length === 0 && declared.has(info.name) && declared.get(info.name) === undefined) {
        info.shape = undefined;
      }
    }
  }

  input(name: string): TensorInfo {
    const info = this.inputs.find((i) => i.name === name);
    if (!info) throw new PentimentoError('INTERNAL', `${this.file}: the graph has no input '${name}'.`);
    return info;
  }

  private toOrtTensor(info: TensorInfo, feed: FeedTensor): ort.Tensor {
    const dims = [...feed.dims];
    const size = dims.reduce((a, b) => a * b, 1);
    if (feed.data.length !== size) {
      throw new PentimentoError(
        'INTERNAL',
        `${this.file}: input '${info.name}' has ${feed.data.length} values but shape [${dims.join(', ')}] needs ${size}.`,
      );
    }
    const numbers = (): ArrayLike<number> =>
      feed.data instanceof BigInt64Array ? Array.from(feed.data, Number) : (feed.data as ArrayLike<number>);
    switch (info.dtype) {
      case 'float32':
        return new ort.Tensor('float32', feed.data instanceof Float32Array ? feed.data : Float32Array.from(numbers()), dims);
      case 'float16':
        return new ort.Tensor('float16', toFloat16(numbers()), dims);
      case 'float64':
        return new ort.Tensor('float64', Float64Array.from(numbers()), dims);
      case 'int64':
        return new ort.Tensor(
          'int64',
          feed.data instanceof BigInt64Array ? feed.data : BigInt64Array.from(Array.from(numbers(), (v) => BigInt(Math.round(v)))),
          dims,
        );
      case 'int32':
        return new ort.Tensor('int32', feed.data instanceof Int32Array ? feed.data : Int32Array.from(numbers(), Math.round), dims);
      default:
        throw new PentimentoError(
          'BAD_MODEL',
          `${this.file}: input '${info.name}' has type ${info.dtype}, which Pentimento cannot feed (it feeds float32, float16, int32 and int64).`,
          { file: this.file, input: info.name },
        );
    }
  }

  /** Runs the graph; outputs default to all of them. Time inside is added to the runtime's clock. */
  async run(feeds: Record<string, FeedTensor>, outputNames?: readonly string[]): Promise<Record<string, OutputTensor>> {
    if (this.disposed) throw new PentimentoError('INTERNAL', `${this.file}: the session was disposed.`);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const info of this.inputs) {
      const feed = feeds[info.name];
      if (!feed) throw new PentimentoError('INTERNAL', `${this.file}: no value fed for input '${info.name}'.`);
      ortFeeds[info.name] = this.toOrtTensor(info, feed);
    }
    const start = performance.now();
    let results: ort.InferenceSession.ReturnType;
    try {
      results = outputNames ? await this.session.run(ortFeeds, [...outputNames]) : await this.session.run(ortFeeds);
    } catch (e) {
      throw translateError(e, this.file, 'running');
    } finally {
      this.runtime.insideMs += performance.now() - start;
      this.runtime.runCount++;
    }
    const out: Record<string, OutputTensor> = {};
    for (const [name, tensor] of Object.entries(results)) {
      out[name] = { data: toFloat32(tensor, this.file), dims: [...tensor.dims] };
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.runtime.forget(this);
    await this.session.release();
  }
}

function toFloat32(tensor: ort.Tensor, file: string): Float32Array {
  const data = tensor.data;
  if (tensor.type === 'float32') return data as Float32Array;
  if (tensor.type === 'float16' && data instanceof Uint16Array) return fromFloat16(data);
  if (FLOAT_TYPES.has(tensor.type) || INT_TYPES.has(tensor.type)) {
    return Float32Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
  }
  throw new PentimentoError('BAD_MODEL', `${file}: an output has type ${tensor.type}, which Pentimento cannot read.`, { file });
}
