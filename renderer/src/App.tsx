import {
  Alert,
  Button,
  Container,
  Grid,
  Group,
  NumberInput,
  Paper,
  Progress,
  Select,
  Slider,
  Stack,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ErrorData } from '../../main/engine/errors';
import type { GenerateRequest, JobResult, ModelInfo, SchedulerName, TokenCount } from '../../main/contract/contract';
import { asErrorData } from './api/asErrorData';
import { base64ToBytes, bytesToBase64 } from './api/base64';
import { engineApi, hasNativeDialogs } from './api/engineApi';
import { ModelBadge } from './components/ModelBadge';
import { PhotoMaskEditor } from './components/PhotoMaskEditor';
import { MaskBrush } from './editor/MaskBrush';
import { MaskRaster } from './editor/MaskRaster';
import { maskToPng } from './editor/maskToPng';

interface Photo {
  base64: string;
  name: string;
  url: string;
  width: number;
  height: number;
}

interface Job {
  id?: string;
  step: number;
  totalSteps: number;
  previewUrl?: string;
}

interface Result {
  url: string;
  pngBase64: string;
  seed?: number;
  steps?: number;
}

const SCHEDULERS: { value: SchedulerName; label: string }[] = [
  { value: 'ddim', label: 'DDIM' },
  { value: 'euler', label: 'Euler' },
  { value: 'euler-a', label: 'Euler ancestral' },
  { value: 'dpmpp-2m', label: 'DPM++ 2M' },
];

const pngUrl = (pngBase64: string) => `data:image/png;base64,${pngBase64}`;

/** Decodes the photo in the page (to size the mask) and keeps its bytes for the engine. */
async function loadPhoto(base64: string, name: string): Promise<Photo> {
  const url = URL.createObjectURL(new Blob([base64ToBytes(base64)]));
  const image = new Image();
  image.src = url;
  try {
    await image.decode();
  } catch {
    URL.revokeObjectURL(url);
    throw { code: 'BAD_IMAGE', message: `${name} could not be displayed; open a PNG, JPEG or WebP image.` } satisfies ErrorData;
  }
  return { base64, name, url, width: image.naturalWidth, height: image.naturalHeight };
}

export function App() {
  const [model, setModel] = useState<ModelInfo | null>(null);
  const [photo, setPhoto] = useState<Photo | null>(null);
  const [brush, setBrush] = useState<MaskBrush | null>(null);
  const [brushSize, setBrushSize] = useState(40);
  const [maskRevision, setMaskRevision] = useState(0);
  const [prompt, setPrompt] = useState('');
  const [negativePrompt, setNegativePrompt] = useState('');
  const [tokens, setTokens] = useState<TokenCount | null>(null);
  const [steps, setSteps] = useState<number>(20);
  const [guidance, setGuidance] = useState<number>(7.5);
  const [strength, setStrength] = useState<number>(0.75);
  const [seed, setSeed] = useState<number>(1234);
  const [scheduler, setScheduler] = useState<SchedulerName>('ddim');
  const [job, setJob] = useState<Job | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<ErrorData | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const jobRef = useRef<Job | null>(null);
  jobRef.current = job;

  const fail = useCallback((e: unknown) => setError(asErrorData(e)), []);

  useEffect(() => {
    engineApi.getModelInfo().then(setModel, fail);
  }, [fail]);

  // Events may name a job before generate() has told us its id; adopt the first one then.
  const isCurrentJob = (jobId: string) => {
    const current = jobRef.current;
    if (!current) return false;
    if (!current.id) current.id = jobId;
    return current.id === jobId;
  };

  useEffect(() => {
    const offProgress = engineApi.on('progress', (p) => {
      if (!isCurrentJob(p.jobId)) return;
      setJob({ id: p.jobId, step: p.step, totalSteps: p.totalSteps, previewUrl: p.preview && pngUrl(p.preview.pngBase64) });
    });
    const offResult = engineApi.on('result', (r: JobResult) => {
      if (!isCurrentJob(r.jobId)) return;
      setJob(null);
      const p = r.parameters as { seed?: number; steps?: number };
      setResult({ url: pngUrl(r.image.pngBase64), pngBase64: r.image.pngBase64, seed: p.seed, steps: p.steps });
    });
    const offFailed = engineApi.on('failed', ({ jobId, error: e }) => {
      if (!isCurrentJob(jobId)) return;
      setJob(null);
      if (e.code === 'CANCELLED') setNotice('Generation cancelled.');
      else setError(e);
    });
    return () => {
      offProgress();
      offResult();
      offFailed();
    };
  }, []);

  useEffect(() => {
    let stale = false;
    const timer = setTimeout(() => {
      engineApi.countTokens({ text: prompt }).then((t) => !stale && setTokens(t), fail);
    }, 120);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [prompt, fail]);

  useEffect(() => {
    if (brush) brush.radius = brushSize / 2;
  }, [brush, brushSize]);

  const openPhoto = useCallback(
    async (base64: string, name: string) => {
      try {
        const loaded = await loadPhoto(base64, name);
        setPhoto((old) => {
          if (old) URL.revokeObjectURL(old.url);
          return loaded;
        });
        setBrush(new MaskBrush(new MaskRaster(loaded.width, loaded.height), brushSize / 2));
        setMaskRevision((r) => r + 1);
        setError(null);
      } catch (e) {
        fail(e);
      }
    },
    [brushSize, fail],
  );

  const openFile = useCallback(
    async (file: File) => openPhoto(bytesToBase64(new Uint8Array(await file.arrayBuffer())), file.name),
    [openPhoto],
  );

  const onOpenClick = async () => {
    if (hasNativeDialogs) {
      try {
        const chosen = await engineApi.openImage!();
        if (chosen) await openPhoto(chosen.base64, chosen.name);
      } catch (e) {
        fail(e);
      }
    } else {
      fileInput.current?.click();
    }
  };

  // Dropping a file anywhere opens it (and never lets the page navigate to the file).
  useEffect(() => {
    const over = (e: DragEvent) => e.preventDefault();
    const drop = (e: DragEvent) => {
      e.preventDefault();
      const file = e.dataTransfer?.files[0];
      if (file) void openFile(file);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, [openFile]);

  const generate = async () => {
    setError(null);
    setNotice(null);
    const maskPainted = brush !== null && !brush.mask.isEmpty();
    const request: GenerateRequest = {
      kind: photo ? (maskPainted ? 'inpaint' : 'img2img') : 'txt2img',
      prompt,
      negativePrompt: negativePrompt || undefined,
      steps,
      guidance,
      seed,
      scheduler,
    };
    if (photo) {
      request.image = { base64: photo.base64, name: photo.name };
      request.strength = strength;
      if (maskPainted) request.mask = { base64: await maskToPng(brush.mask) };
    } else {
      request.width = 512;
      request.height = 512;
    }
    const pending: Job = { step: 0, totalSteps: steps };
    jobRef.current = pending;
    setJob(pending);
    try {
      const { jobId } = await engineApi.generate(request);
      if (jobRef.current === pending && !pending.id) pending.id = jobId;
    } catch (e) {
      jobRef.current = null;
      setJob(null);
      fail(e);
    }
  };

  const cancel = async () => {
    const id = jobRef.current?.id;
    if (!id) return;
    try {
      await engineApi.cancel({ jobId: id });
    } catch (e) {
      fail(e);
    }
  };

  const save = async () => {
    if (!result) return;
    const suggestedName = `${(photo?.name ?? 'pentimento').replace(/\.[^.]+$/, '')}-edited.png`;
    if (hasNativeDialogs) {
      try {
        const saved = await engineApi.saveImage!({ pngBase64: result.pngBase64, suggestedName });
        if (saved.saved) setNotice(`Saved ${saved.path}`);
      } catch (e) {
        fail(e);
      }
      return;
    }
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([base64ToBytes(result.pngBase64)], { type: 'image/png' }));
    link.download = suggestedName;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  };

  const afterMaskChange = () => setMaskRevision((r) => r + 1);
  const running = job !== null;

  return (
    <Container size="xl" py="md">
      <Group justify="space-between" mb="md">
        <Group>
          <Title order={2}>Pentimento</Title>
          <ModelBadge model={model} />
        </Group>
        <Button aria-label="Open image" onClick={onOpenClick}>
          Open image
        </Button>
        <input
          ref={fileInput}
          type="file"
          accept="image/*"
          hidden
          aria-hidden
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (file) void openFile(file);
          }}
        />
      </Group>

      {error && (
        <Alert color="red" title={`Error (${error.code})`} withCloseButton onClose={() => setError(null)} mb="md">
          {error.message}
        </Alert>
      )}
      {notice && (
        <Alert color="blue" withCloseButton onClose={() => setNotice(null)} mb="md">
          {notice}
        </Alert>
      )}

      <Grid>
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Paper withBorder p="sm">
            {photo && brush ? (
              <Stack gap="xs">
                <PhotoMaskEditor
                  photoUrl={photo.url}
                  photoName={photo.name}
                  brush={brush}
                  revision={maskRevision}
                  onStrokeEnd={afterMaskChange}
                />
                <Group>
                  <Text size="sm" w={80}>
                    Brush size
                  </Text>
                  <Slider
                    style={{ flex: 1 }}
                    min={2}
                    max={200}
                    value={brushSize}
                    onChange={setBrushSize}
                    thumbLabel="Brush size"
                  />
                  <Button variant="default" size="xs" disabled={!brush.canUndo} onClick={() => (brush.undo(), afterMaskChange())}>
                    Undo stroke
                  </Button>
                  <Button variant="default" size="xs" disabled={!brush.canRedo} onClick={() => (brush.redo(), afterMaskChange())}>
                    Redo stroke
                  </Button>
                  <Button variant="default" size="xs" onClick={() => (brush.clear(), afterMaskChange())}>
                    Clear mask
                  </Button>
                </Group>
                <Text size="xs" c="dimmed">
                  {photo.name} · {photo.width}×{photo.height} · paint where the picture should change
                </Text>
              </Stack>
            ) : (
              <Text c="dimmed" ta="center" py={80}>
                Open an image or drop one here. Without an image, Generate makes a new picture from the prompt.
              </Text>
            )}
          </Paper>
          {result && (
            <Paper withBorder p="sm" mt="md">
              <Stack gap="xs">
                <img
                  src={result.url}
                  alt={`Result (seed ${result.seed ?? '?'}, ${result.steps ?? '?'} steps)`}
                  style={{ alignSelf: 'flex-start', maxWidth: '100%', maxHeight: '68vh' }}
                />
                <Group>
                  <Button onClick={save}>Save</Button>
                </Group>
              </Stack>
            </Paper>
          )}
        </Grid.Col>

        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack>
            <Textarea
              label="Prompt"
              autosize
              minRows={3}
              value={prompt}
              onChange={(e) => setPrompt(e.currentTarget.value)}
              description={
                <span data-testid="token-count" style={{ color: tokens?.truncated ? 'var(--mantine-color-red-7)' : undefined }}>
                  {tokens ? `${tokens.count}/${tokens.max} tokens${tokens.truncated ? ' (truncated)' : ''}` : '…'}
                </span>
              }
              inputWrapperOrder={['label', 'input', 'description']}
            />
            <Textarea
              label="Negative prompt"
              autosize
              minRows={2}
              value={negativePrompt}
              onChange={(e) => setNegativePrompt(e.currentTarget.value)}
            />
            <Group grow>
              <NumberInput label="Steps" min={1} max={200} value={steps} onChange={(v) => setSteps(Number(v) || 1)} />
              <NumberInput
                label="Guidance"
                min={0}
                max={30}
                step={0.5}
                decimalScale={2}
                value={guidance}
                onChange={(v) => setGuidance(Number(v))}
              />
            </Group>
            <Group grow>
              <NumberInput
                label="Strength"
                min={0}
                max={1}
                step={0.05}
                decimalScale={2}
                value={strength}
                disabled={!photo}
                onChange={(v) => setStrength(Number(v))}
              />
              <NumberInput label="Seed" min={0} max={2 ** 32 - 1} value={seed} onChange={(v) => setSeed(Number(v) || 0)} />
            </Group>
            <Select
              label="Scheduler"
              data={SCHEDULERS}
              value={scheduler}
              allowDeselect={false}
              onChange={(v) => v && setScheduler(v as SchedulerName)}
            />
            <Group grow>
              <Button onClick={generate} disabled={running} loading={running && !job?.step}>
                Generate
              </Button>
              <Button variant="default" onClick={cancel} disabled={!running}>
                Cancel
              </Button>
            </Group>
            {job && (
              <Stack gap={4}>
                <Progress
                  aria-label="Progress"
                  value={job.totalSteps ? (100 * job.step) / job.totalSteps : 0}
                  animated
                />
                <Text size="sm" aria-live="polite">
                  Step {job.step} of {job.totalSteps}
                </Text>
                {job.previewUrl && (
                  <img src={job.previewUrl} alt={`Preview at step ${job.step}`} style={{ width: 128, imageRendering: 'pixelated' }} />
                )}
              </Stack>
            )}
          </Stack>
        </Grid.Col>
      </Grid>
    </Container>
  );
}
