import {
  ActionIcon,
  Alert,
  AppShell,
  Badge,
  Box,
  Button,
  Divider,
  Group,
  Paper,
  ScrollArea,
  SegmentedControl,
  Slider,
  Stack,
  Text,
  Title,
  Tooltip,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import type {
  ControlNetInfo,
  GenerateRequest,
  InvertEditRequest,
  JobResult,
  ProjectResult,
  ProjectState,
  ProjectSummary,
  ReeditRequest,
  TokenCount,
} from '../../main/contract/contract';
import type { ErrorData } from '../../main/engine/errors';
import { asErrorData } from './api/asErrorData';
import { base64ToBytes, bytesToBase64 } from './api/base64';
import { engineApi, hasNativeDialogs } from './api/engineApi';
import { CanvasToolbar } from './components/CanvasToolbar';
import { CanvasView, type CanvasImage } from './components/CanvasView';
import { ControlsPanel } from './components/ControlsPanel';
import { ModelBadge, type ModelState } from './components/ModelBadge';
import { PendingModePanel } from './components/PendingModePanel';
import { ProjectsMenu } from './components/ProjectsMenu';
import { QueuePanel } from './components/QueuePanel';
import { ResultsGallery, type ResultItem } from './components/ResultsGallery';
import { StructureControls, type ConditionPreviewState } from './components/StructureControls';
import { CanvasController } from './editor/CanvasController';
import { History, wholeMaskEntry, type EditorDocument, type HistoryEntry } from './editor/History';
import { EMPTY_QUEUE, isPending, updateJobs, type QueuedJob, type QueueKind } from './editor/JobQueue';
import { maskFromPng, maskToPng } from './editor/maskPng';
import { MaskRaster, type BrushMode } from './editor/MaskRaster';
import { conditionSourceNote, findControlNet, recordedControlNet, recordedControlNetName } from './editor/findControlNet';
import { resultScores } from './editor/resultScores';
import { strengthHint } from './editor/strengthHint';
import {
  isInversionMethod,
  loadSettings,
  randomSeed,
  requestScheduler,
  projectSettings,
  saveSettings,
  describeSkipped,
  restoreFromParameters,
  restoreFromPhotoParameters,
  restoreNotice,
  resumableInversion,
  strengthKey,
  withProjectSettings,
  type EditorMode,
  type Settings,
} from './editor/settings';

interface Photo {
  name: string;
  /** The project's working photo (upright PNG): what the mask is painted over and the engine gets. */
  pngBase64: string;
  url: string;
  width: number;
  height: number;
}

const LAST_PROJECT_KEY = 'pentimento.lastProject';
/** Quiet time after the last settings change before they are saved into the project. */
const SETTINGS_SAVE_DEBOUNCE_MS = 400;
/** How long an information notice shows before it closes by itself. */
const NOTICE_MS = 10_000;

/** A photo's parameters as the controls take them; none when nothing in them is usable. */
const photoSettings = (parameters: Record<string, unknown>): Partial<Settings> => {
  const back = restoreFromPhotoParameters(parameters);
  return back.restored > 0 ? back.settings : {};
};
/** Quiet time after the last η change before the re-edit is sent (a drag sends one, not dozens). */
const REEDIT_DEBOUNCE_MS = 250;
/** Same for the condition preview after a type change. */
const PREVIEW_DEBOUNCE_MS = 150;

/** A finished inversion the η slider re-edits from, valid while `key` (photo and inversion settings) holds. */
interface ActiveInversion {
  inversionId: string;
  key: string;
}

const inversionSettingsKey = (photoUrl: string | undefined, s: Settings) => JSON.stringify([photoUrl, s.editMethod, s.steps, s.guidance, s.sourcePrompt]);
const HISTORY_VERSION = 1;
const MODES: { value: EditorMode; label: string }[] = [
  { value: 'edit', label: 'Edit photo' },
  { value: 'generate', label: 'Generate' },
  { value: 'structure', label: 'Structure' },
  { value: 'personalize', label: 'Personalize' },
];

/** How long an object URL outlives the last render that showed it. */
const URL_REVOKE_DELAY_MS = 2000;
const pngUrl = (pngBase64: string) => URL.createObjectURL(new Blob([base64ToBytes(pngBase64)], { type: 'image/png' }));

const toItem = (r: ProjectResult, number: number): ResultItem => ({
  id: r.id,
  url: pngUrl(r.image.pngBase64),
  pngBase64: r.image.pngBase64,
  width: r.image.width,
  height: r.image.height,
  parameters: r.parameters,
  createdAt: r.createdAt,
  number,
  scores: resultScores(r.parameters),
});

const isTyping = (target: EventTarget | null) =>
  target instanceof HTMLElement && target.closest('input, textarea, select, [contenteditable="true"]') !== null;

export function App() {
  const [settings, setSettings] = useState<Settings>(() => loadSettings(window.localStorage));
  const update = useCallback((patch: Partial<Settings>) => setSettings((s) => ({ ...s, ...patch })), []);
  useEffect(() => saveSettings(window.localStorage, settings), [settings]);
  const settingsRef = useRef(settings);
  settingsRef.current = settings;

  const [model, setModel] = useState<ModelState>({ status: 'loading' });
  const [tokens, setTokens] = useState<TokenCount | 'unavailable' | null>(null);
  /** Bumped by Retry after a failed model load: requests that need the model are made again. */
  const [modelAttempt, retryModel] = useReducer((n: number) => n + 1, 0);
  const [error, setError] = useState<ErrorData | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // Notices inform and go (errors stay until dismissed): one left open would sit over the canvas.
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice((n) => (n === notice ? null : n)), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice]);
  /**
   * From 1200 px the queue and results are a column of their own; narrower, they are a panel the
   * header's Queue button shows over the canvas's right side (as a column they squeezed the canvas
   * to a strip, and Mantine's full-width overlay hid the controls). Below 768 px the controls too.
   */
  const wide = useMediaQuery('(min-width: 75em)', true, { getInitialValueInEffect: false });
  const controlsBeside = useMediaQuery('(min-width: 48em)', true, { getInitialValueInEffect: false });
  const [queueShown, setQueueShown] = useState(false);
  const [controlsShown, setControlsShown] = useState(true);
  /** The project or photo being opened, shown over the canvas until it is (the engine may be busy with a job). */
  const [opening, setOpening] = useState<string | null>(null);
  const projectNames = useRef(new Map<string, string>());
  const [project, setProject] = useState<ProjectSummary | null>(null);
  const [photo, setPhoto] = useState<Photo | null>(null);
  const [controller, setController] = useState<CanvasController | null>(null);
  const [results, setResults] = useState<ResultItem[]>([]);
  const [queue, dispatchJob] = useReducer(updateJobs, EMPTY_QUEUE);
  const [dismissed, setDismissed] = useState<Set<number>>(new Set());
  const [tool, setTool] = useState<BrushMode>('brush');
  const [view, setView] = useState<'mask' | 'compare'>('mask');
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [comparePosition, setComparePosition] = useState(50);
  const [revision, bump] = useReducer((n: number) => n + 1, 0);
  const [pendingSaves, setPendingSaves] = useState(0);
  const [saveFailed, setSaveFailed] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [controlnets, setControlnets] = useState<ControlNetInfo[] | null>(null);
  const [conditionPreview, setConditionPreview] = useState<ConditionPreviewState>({ status: 'none' });
  const [activeInversion, setActiveInversion] = useState<ActiveInversion | null>(null);
  const activeInversionRef = useRef(activeInversion);
  activeInversionRef.current = activeInversion;
  /** Our inversion jobs by engine job id, with the inversion settings key they ran under. */
  const inversionJobs = useRef(new Map<string, { kind: 'invert' | 'reedit'; key: string }>());
  /** The η of the newest re-edit (or reconstruction) asked of the active inversion. */
  const requestedEta = useRef<number | null>(null);
  /** The slider's running re-edit, cancelled when a newer η supersedes it. */
  const sliderJob = useRef<string | null>(null);

  const history = useRef(new History()).current;
  const hidden = useRef(new Set<string>());
  const projectRef = useRef(project);
  projectRef.current = project;
  const controllerRef = useRef(controller);
  controllerRef.current = controller;
  const photoRef = useRef(photo);
  photoRef.current = photo;
  const nextLocalId = useRef(1);
  const fileInput = useRef<HTMLInputElement>(null);

  const fail = useCallback((e: unknown) => setError(asErrorData(e)), []);

  // Saves run in order; a failure is shown, and the next save tries again.
  const saving = useRef(Promise.resolve());
  const persist = useCallback(
    (work: (projectId: string) => Promise<unknown>, projectId = projectRef.current?.id) => {
      if (!projectId) return;
      setPendingSaves((n) => n + 1);
      saving.current = saving.current
        .then(() => work(projectId))
        .then(
          () => setSaveFailed(false),
          (e: unknown) => {
            setSaveFailed(true);
            fail(e);
          },
        )
        .finally(() => setPendingSaves((n) => n - 1));
    },
    [fail],
  );
  const maskDirty = useRef(false);
  const persistMask = useCallback(() => {
    const c = controllerRef.current;
    if (!c) return;
    // Coalesces a burst of strokes into one write of the latest mask.
    if (maskDirty.current) return;
    maskDirty.current = true;
    persist(async (projectId) => {
      maskDirty.current = false;
      await engineApi.saveMask({ projectId, mask: { base64: await maskToPng(c.mask) } });
    });
  }, [persist]);
  const persistHistory = useCallback(() => {
    const doc = { version: HISTORY_VERSION, hiddenResultIds: [...hidden.current], applied: history.appliedLabels };
    persist((projectId) => engineApi.saveHistory({ projectId, history: doc }));
  }, [persist, history]);

  // The settings travel with the project: saved into it once they rest (unless it has them already).
  const savedSettings = useRef<{ projectId: string; json: string } | null>(null);
  const settingsSave = useRef<{ timer: ReturnType<typeof setTimeout>; run: () => void } | null>(null);
  /** Saves a pending change now (before another project replaces the settings). */
  const flushSettings = useCallback(() => {
    const pending = settingsSave.current;
    if (!pending) return;
    clearTimeout(pending.timer);
    settingsSave.current = null;
    pending.run();
  }, []);
  useEffect(() => {
    if (!project) return;
    const values = projectSettings(settings);
    const json = JSON.stringify(values);
    if (savedSettings.current?.projectId === project.id && savedSettings.current.json === json) return;
    if (settingsSave.current) clearTimeout(settingsSave.current.timer);
    const projectId = project.id;
    const run = () => {
      savedSettings.current = { projectId, json };
      persist(() => engineApi.saveSettings({ projectId, settings: values }), projectId);
    };
    const timer = setTimeout(() => {
      settingsSave.current = null;
      run();
    }, SETTINGS_SAVE_DEBOUNCE_MS);
    settingsSave.current = { timer, run };
  }, [settings, project, persist]);

  // ---- projects -------------------------------------------------------------------------------

  /**
   * Bumped by every request to show a project: only the newest may show its project, so a
   * slower, older open (the start-up reopen decoding its mask, say) cannot replace it later.
   */
  const openTicket = useRef(0);

  const showProject = useCallback(
    async (state: ProjectState, ticket: number): Promise<boolean> => {
      const { project: p } = state;
      if (ticket !== openTicket.current) return false;
      const mask = state.mask ? await maskFromPng(state.mask.pngBase64, p.width, p.height) : new MaskRaster(p.width, p.height);
      if (ticket !== openTicket.current) return false;
      flushSettings();
      // The project's own settings; a new one from a PNG Pentimento wrote takes that PNG's parameters;
      // any other starts from the current (last-used) ones.
      const s = state.settings
        ? withProjectSettings(settingsRef.current, state.settings)
        : state.parameters
          ? { ...settingsRef.current, ...photoSettings(state.parameters) }
          : settingsRef.current;
      savedSettings.current = state.settings ? { projectId: p.id, json: JSON.stringify(projectSettings(s)) } : null;
      setSettings(s);
      settingsRef.current = s;
      const c = new CanvasController(mask, { radius: s.brushSize / 2, hardness: s.hardness, mode: 'brush' });
      const saved = state.history?.hiddenResultIds;
      hidden.current = new Set(Array.isArray(saved) ? saved.filter((v): v is string => typeof v === 'string') : []);
      history.clear();
      const items = state.results.map((r, i) => toItem(r, i + 1));
      setPhoto({ name: p.name, pngBase64: state.photo.pngBase64, url: pngUrl(state.photo.pngBase64), width: p.width, height: p.height });
      setResults(items);
      setSelectedId([...items].reverse().find((r) => !hidden.current.has(r.id))?.id ?? null);
      setView('mask');
      setProject(p);
      projectRef.current = p;
      setController(c);
      controllerRef.current = c;
      bump();
      window.localStorage.setItem(LAST_PROJECT_KEY, p.id);
      return true;
    },
    [history, flushSettings],
  );

  const openProject = useCallback(
    async (projectId: string, opts: { atStartup?: boolean } = {}) => {
      // The start-up reopen yields to any photo or project the user has opened, or is opening.
      if (opts.atStartup && (openTicket.current > 0 || projectRef.current)) return;
      const ticket = ++openTicket.current;
      setOpening(projectNames.current.get(projectId) ?? 'the project');
      try {
        if (await showProject(await engineApi.openProject({ projectId }), ticket)) setError(null);
      } catch (e) {
        fail(e);
      } finally {
        if (ticket === openTicket.current) setOpening(null);
      }
    },
    [showProject, fail],
  );

  const openImage = useCallback(
    async (base64: string, name: string) => {
      const ticket = ++openTicket.current;
      setOpening(name);
      try {
        // A project opened after this one started stays shown (this photo is saved as a project all the same).
        const state = await engineApi.createProject({ image: { base64, name } });
        if (!(await showProject(state, ticket))) return;
        // A photo is for Edit photo, or for Structure, which takes its condition from it.
        if (settingsRef.current.mode !== 'edit' && settingsRef.current.mode !== 'structure') update({ mode: 'edit' });
        setError(null);
        const back = state.parameters ? restoreFromPhotoParameters(state.parameters) : null;
        const sourceNote = back && back.restored > 0 && state.parameters ? conditionSourceNote(state.parameters, name) : undefined;
        const restored = back ? restoreNotice(back) + (sourceNote ? ` ${sourceNote}` : '') : null;
        setNotice(restored);
        const wanted = back && back.restored > 0 && state.parameters ? recordedControlNet(state.parameters) : undefined;
        if (restored && wanted) {
          // Made with ControlNets: the same one by name, else the fallback the Structure panel picks, said out loud.
          const list = await engineApi.listControlNets();
          if (ticket !== openTicket.current) return;
          setControlnets(list);
          const found = findControlNet(wanted, list);
          const pick = found ?? list.find((c) => c.conditionType === settingsRef.current.conditionType) ?? list[0];
          if (pick) update({ controlnetId: pick.id });
          if (!found) {
            const instead = pick ? `using ${pick.name}` : 'install one to generate';
            setNotice(`${restored} ControlNet '${recordedControlNetName(wanted)}' is not installed; ${instead}.`);
          }
        }
      } catch (e) {
        fail(e);
      } finally {
        if (ticket === openTicket.current) setOpening(null);
      }
    },
    [showProject, fail, update],
  );

  const openFile = useCallback(
    async (file: File) => {
      if (file.type && !file.type.startsWith('image/')) {
        setError({ code: 'BAD_IMAGE', message: `${file.name} is not an image; open a PNG, JPEG, WebP, TIFF, AVIF or GIF file.` });
        return;
      }
      await openImage(bytesToBase64(new Uint8Array(await file.arrayBuffer())), file.name || 'Pasted image.png');
    },
    [openImage],
  );

  // The model, then the last project (or the newest one), on start and on Retry. A model that
  // fails to load is the badge's error state, not a general error.
  useEffect(() => {
    let cancelled = false;
    setModel({ status: 'loading' });
    engineApi.getModelInfo().then(
      (info) => !cancelled && setModel({ status: 'ready', info }),
      (e: unknown) => !cancelled && setModel({ status: 'error', error: asErrorData(e) }),
    );
    engineApi.listProjects().then((list) => {
      for (const p of list) projectNames.current.set(p.id, p.name);
      if (cancelled || list.length === 0 || projectRef.current) return;
      const last = window.localStorage.getItem(LAST_PROJECT_KEY);
      void openProject(list.find((p) => p.id === last)?.id ?? list[0].id, { atStartup: true });
    }, fail);
    return () => {
      cancelled = true;
    };
  }, [fail, openProject, modelAttempt]);

  // ---- history ----------------------------------------------------------------------------------

  const doc = (): EditorDocument => ({ mask: controllerRef.current?.mask ?? new MaskRaster(1, 1), hiddenResultIds: hidden.current });

  const afterHistory = useCallback(
    (entry: HistoryEntry) => {
      if (entry.kind === 'mask') persistMask();
      else {
        persistHistory();
        setSelectedId((id) => (id && hidden.current.has(id) ? null : id));
      }
      bump();
    },
    [persistMask, persistHistory],
  );

  const record = useCallback(
    (entry: HistoryEntry) => {
      history.push(entry);
      afterHistory(entry);
    },
    [history, afterHistory],
  );

  const undo = useCallback(() => {
    const entry = history.undo(doc());
    if (entry) afterHistory(entry);
  }, [history, afterHistory]);
  const redo = useCallback(() => {
    const entry = history.redo(doc());
    if (entry) afterHistory(entry);
  }, [history, afterHistory]);

  const wholeMask = (label: string, change: (m: MaskRaster) => void) => {
    const c = controllerRef.current;
    if (!c) return;
    if (label === 'Clear mask' && c.mask.isEmpty()) return;
    const before = c.mask.snapshot();
    change(c.mask);
    record(wholeMaskEntry(label, c.mask, before));
  };

  useEffect(() => {
    if (controller) controller.brush.dab = { radius: settings.brushSize / 2, hardness: settings.hardness, mode: tool };
  }, [controller, settings.brushSize, settings.hardness, tool]);

  // ---- engine events ---------------------------------------------------------------------------

  useEffect(() => {
    const offProgress = engineApi.on('progress', (progress) => dispatchJob({ type: 'progress', progress }));
    const offFailed = engineApi.on('failed', ({ jobId, error: e }) => dispatchJob({ type: 'failed', jobId, error: e }));
    const offResult = engineApi.on('result', (r: JobResult) => {
      const resultId = r.saved?.resultId ?? `session-${r.jobId}`;
      dispatchJob({ type: 'result', jobId: r.jobId, resultId });
      const inversionJob = inversionJobs.current.get(r.jobId);
      inversionJobs.current.delete(r.jobId);
      if (inversionJob?.kind === 'invert' && r.inversionId) onInverted.current(r.inversionId, inversionJob.key);
      // A result saved into another project (the user switched meanwhile) stays there.
      if (r.saved && r.saved.projectId !== projectRef.current?.id) return;
      setResults((old) => {
        if (old.some((x) => x.id === resultId)) return old;
        const item: ResultItem = {
          id: resultId,
          url: pngUrl(r.image.pngBase64),
          pngBase64: r.image.pngBase64,
          width: r.image.width,
          height: r.image.height,
          parameters: r.parameters,
          createdAt: new Date().toISOString(),
          number: old.length + 1,
          scores: resultScores(r.parameters, { consistency: r.consistency, metrics: r.metrics, inversionId: r.inversionId }),
        };
        return [...old, item];
      });
      setSelectedId(resultId);
      const shownMode = settingsRef.current.mode;
      if ((shownMode === 'edit' || shownMode === 'structure') && controllerRef.current) setView('compare');
      history.push({ kind: 'result', label: 'Result', resultId });
      persistHistory();
      bump();
    });
    return () => {
      offProgress();
      offFailed();
      offResult();
    };
  }, [history, persistHistory]);

  useEffect(() => {
    let stale = false;
    const timer = setTimeout(() => {
      // A count the engine cannot give (no model) shows a dash; the model's error is the badge's.
      engineApi.countTokens({ text: settings.prompt }).then(
        (t) => !stale && setTokens(t),
        () => !stale && setTokens('unavailable'),
      );
    }, 120);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [settings.prompt, modelAttempt]);

  // ---- generate / cancel -----------------------------------------------------------------------

  const maskEmpty = controller ? controller.mask.isEmpty() : true;
  const mode = settings.mode;
  const inversionMethod = mode === 'edit' && isInversionMethod(settings.editMethod);
  const editKind = maskEmpty ? 'img2img' : 'inpaint';
  const strengthProblem = mode === 'edit' && !inversionMethod ? strengthHint(settings.steps, settings[strengthKey(editKind)]) : undefined;
  const structureNet = controlnets?.find((c) => c.id === settings.controlnetId);
  /** Why Generate cannot run now, if it cannot. */
  const blocked = ((): string | undefined => {
    if (mode === 'personalize') return 'This mode is not available yet.';
    if (model.status === 'error') return 'The model is not loaded (see above): fix it, then press Retry.';
    if (mode === 'edit' && !photo) return 'Open a photo to edit it, or switch to Generate to make a new picture.';
    if (strengthProblem?.problem) return strengthProblem.text;
    if (mode !== 'structure') return undefined;
    if (!photo) return 'Open a photo: Structure mode takes its edges, depth or layout from it.';
    if (!structureNet) return controlnets === null ? 'Looking for ControlNets…' : 'Install a ControlNet first (see above).';
    if (conditionPreview.status === 'error') return 'The condition cannot be extracted (see above); pick another type or install its annotator.';
    return undefined;
  })();
  const methodNames = { pti: 'Prompt Tuning Inversion', nti: 'null-text inversion', ddim: 'DDIM inversion' } as const;
  const action =
    mode === 'generate'
      ? `A new ${settings.width}×${settings.height} picture from the prompt.`
      : mode === 'structure'
        ? `A new picture following the photo's ${settings.conditionType} map${settings.bestOf > 1 ? `; the most consistent of ${settings.bestOf} seeds is kept` : ''}.`
        : inversionMethod
          ? `Inverts the photo by ${methodNames[settings.editMethod as keyof typeof methodNames]} (cached), shows its reconstruction, then ${
              maskEmpty
                ? 're-generates the whole picture from the inversion towards the target prompt (paint a mask to keep the rest of the photo).'
                : "edits the masked area towards the target prompt; outside the mask the photo's own pixels stay."
            }`
          : maskEmpty
            ? 'Re-imagines the whole photo. Paint a mask to change only part of it.'
            : 'Repaints the masked area (inpainting).';

  /** Jobs whose Cancel was clicked while they were being sent: cancelled as soon as the engine names them. */
  const cancelOnAccept = useRef(new Set<number>());
  const sendCancel = useCallback(
    async (localId: number, jobId: string) => {
      try {
        const { cancelled } = await engineApi.cancel({ jobId });
        // It had already ended (its result or failure is on its way): show what the engine says.
        if (!cancelled) dispatchJob({ type: 'cancelRefused', localId });
      } catch (e) {
        dispatchJob({ type: 'cancelRefused', localId });
        fail(e);
      }
    },
    [fail],
  );
  /** Queues one engine job and follows it in the queue panel. */
  const submit = useCallback(
    async (
      job: { kind: QueueKind; prompt: string; seed: number; totalSteps: number; controlled?: boolean },
      send: () => Promise<{ jobId: string }>,
    ): Promise<string | undefined> => {
      const localId = nextLocalId.current++;
      dispatchJob({ type: 'submitted', job: { localId, ...job } });
      try {
        const { jobId } = await send();
        dispatchJob({ type: 'accepted', localId, jobId });
        if (cancelOnAccept.current.delete(localId)) void sendCancel(localId, jobId);
        return jobId;
      } catch (e) {
        cancelOnAccept.current.delete(localId);
        dispatchJob({ type: 'rejected', localId, error: asErrorData(e) });
        return undefined;
      }
    },
    [sendCancel],
  );

  /** A re-edit of the active inversion at η (the slider's job: a newer one cancels it). */
  const reedit = useCallback(
    async (eta: number) => {
      const active = activeInversionRef.current;
      const s = settingsRef.current;
      const c = controllerRef.current;
      const p = projectRef.current;
      if (!active) return;
      requestedEta.current = eta;
      const previous = sliderJob.current;
      if (previous) void engineApi.cancel({ jobId: previous }).catch(() => undefined);
      const request: ReeditRequest = {
        inversionId: active.inversionId,
        prompt: s.prompt,
        eta,
        ...(c && !c.mask.isEmpty() ? { mask: { base64: await maskToPng(c.mask) } } : {}),
        ...(p ? { projectId: p.id } : {}),
      };
      const jobId = await submit({ kind: 'reedit', prompt: `${s.prompt} · η ${eta.toFixed(2)}`, seed: 0, totalSteps: s.steps }, () => engineApi.reedit(request));
      sliderJob.current = jobId ?? null;
      if (jobId) inversionJobs.current.set(jobId, { kind: 'reedit', key: active.key });
    },
    [submit],
  );

  // The reconstruction has arrived: the inversion is cached; the edit at the slider's η follows.
  const onInverted = useRef((inversionId: string, key: string) => {});
  onInverted.current = (inversionId: string, key: string) => {
    const active = { inversionId, key };
    setActiveInversion(active);
    activeInversionRef.current = active;
    requestedEta.current = 0;
    const eta = settingsRef.current.eta;
    if (eta > 0 && key === inversionSettingsKey(photoRef.current?.url, settingsRef.current)) void reedit(eta);
  };

  const inversionKeyNow = inversionSettingsKey(photo?.url, settings);
  const inversionReady = activeInversion !== null && activeInversion.key === inversionKeyNow;
  // After a reload (or on going back to settings an earlier inversion was made with), η re-edits
  // from the project's newest inversion those settings would make: the engine keeps them on disk.
  const resumable = inversionMethod && photo && !inversionReady ? resumableInversion(results, settings) : undefined;
  useEffect(() => {
    if (!resumable) return;
    requestedEta.current = settingsRef.current.eta;
    const active = { inversionId: resumable, key: inversionKeyNow };
    activeInversionRef.current = active;
    setActiveInversion(active);
  }, [resumable, inversionKeyNow]);

  // Moving η re-edits from the cached inversion (no inversion runs), once the slider rests.
  useEffect(() => {
    if (!inversionMethod || !inversionReady || requestedEta.current === settings.eta) return;
    const timer = setTimeout(() => void reedit(settings.eta), REEDIT_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [settings.eta, inversionMethod, inversionReady, reedit]);

  const generate = useCallback(async () => {
    const s = settingsRef.current;
    const c = controllerRef.current;
    const p = projectRef.current;
    if (s.mode === 'personalize') return;
    if ((s.mode === 'edit' || s.mode === 'structure') && !photo) return;
    if (s.mode === 'edit' && isInversionMethod(s.editMethod)) {
      // The reconstruction (η = 0) first; onInverted then asks for the edit at the slider's η.
      const key = inversionSettingsKey(photo!.url, s);
      const request: InvertEditRequest = {
        method: s.editMethod,
        prompt: s.prompt,
        image: { base64: photo!.pngBase64, name: photo!.name },
        ...(c && !c.mask.isEmpty() ? { mask: { base64: await maskToPng(c.mask) } } : {}),
        ...(s.sourcePrompt.trim() ? { sourcePrompt: s.sourcePrompt } : {}),
        steps: s.steps,
        guidance: s.guidance,
        eta: 0,
        ...(p ? { projectId: p.id } : {}),
      };
      const jobId = await submit({ kind: 'invert', prompt: s.prompt, seed: 0, totalSteps: s.steps }, () => engineApi.invertEdit(request));
      if (jobId) inversionJobs.current.set(jobId, { kind: 'invert', key });
      return;
    }
    if (s.mode === 'structure') {
      const seed = s.seedMode === 'random' ? randomSeed() : s.seed;
      if (s.seedMode === 'random') update({ seed });
      const request: GenerateRequest = {
        kind: 'txt2img',
        prompt: s.prompt,
        ...(s.negativePrompt ? { negativePrompt: s.negativePrompt } : {}),
        steps: s.steps,
        guidance: s.guidance,
        seed,
        ...(requestScheduler(s.scheduler) ? { scheduler: requestScheduler(s.scheduler) } : {}),
        // The photo gives the condition and, fitted to the model, the size.
        control: [
          {
            controlnet: s.controlnetId,
            type: s.conditionType,
            image: { base64: photo!.pngBase64, name: photo!.name },
            scale: s.controlScale,
            start: s.controlStart,
            end: s.controlEnd,
          },
        ],
        ...(s.bestOf > 1 ? { bestOf: s.bestOf } : {}),
        ...(p ? { projectId: p.id } : {}),
      };
      await submit({ kind: 'txt2img', controlled: true, prompt: s.prompt, seed, totalSteps: s.steps * s.bestOf }, () => engineApi.generate(request));
      return;
    }
    const seed = s.seedMode === 'random' ? randomSeed() : s.seed;
    if (s.seedMode === 'random') update({ seed });
    const kind = s.mode === 'generate' ? 'txt2img' : c && !c.mask.isEmpty() ? 'inpaint' : 'img2img';
    const request: GenerateRequest = {
      kind,
      prompt: s.prompt,
      ...(s.negativePrompt ? { negativePrompt: s.negativePrompt } : {}),
      steps: s.steps,
      guidance: s.guidance,
      seed,
      ...(requestScheduler(s.scheduler) ? { scheduler: requestScheduler(s.scheduler) } : {}),
      ...(p ? { projectId: p.id } : {}),
    };
    if (kind === 'txt2img') {
      request.width = s.width;
      request.height = s.height;
    } else {
      request.image = { base64: photo!.pngBase64, name: photo!.name };
      request.strength = s[strengthKey(kind)];
      if (kind === 'inpaint') request.mask = { base64: await maskToPng(c!.mask) };
    }
    await submit({ kind, prompt: s.prompt, seed, totalSteps: s.steps }, () => engineApi.generate(request));
  }, [photo, update, submit]);

  // ---- structure: ControlNets and the condition preview ----------------------------------------

  // The list on start and on every entry into Structure mode (a ControlNet may have been installed meanwhile).
  useEffect(() => {
    if (mode !== 'structure' && controlnets !== null) return;
    let stale = false;
    engineApi.listControlNets().then((list) => {
      if (stale) return;
      setControlnets(list);
      const s = settingsRef.current;
      if (!list.some((c) => c.id === s.controlnetId) && list.length > 0) {
        // Prefer one trained on the chosen condition.
        const pick = list.find((c) => c.conditionType === s.conditionType) ?? list[0];
        update({ controlnetId: pick.id });
      }
    }, fail);
    return () => {
      stale = true;
    };
  }, [mode]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (mode !== 'structure' || !photo) {
      setConditionPreview({ status: 'none' });
      return;
    }
    let stale = false;
    setConditionPreview({ status: 'loading' });
    const timer = setTimeout(() => {
      engineApi.extractCondition({ type: settings.conditionType, image: { base64: photo.pngBase64, name: photo.name } }).then(
        (preview) => {
          if (stale) return;
          setConditionPreview({ status: 'ready', url: pngUrl(preview.image.pngBase64), width: preview.image.width, height: preview.image.height, testAnnotator: preview.testAnnotator });
        },
        (e: unknown) => !stale && setConditionPreview({ status: 'error', error: asErrorData(e) }),
      );
    }, PREVIEW_DEBOUNCE_MS);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [mode, photo, settings.conditionType]);

  // Object URLs are revoked once a committed render no longer shows them: revoked earlier (when
  // the state holding one is replaced), an <img> still loading it fails with
  // net::ERR_FILE_NOT_FOUND. Set-up only, so StrictMode's extra effect run revokes nothing.
  const shownUrls = useRef(new Set<string>());
  useEffect(() => {
    const now = new Set(results.map((r) => r.url));
    if (photo) now.add(photo.url);
    if (conditionPreview.status === 'ready') now.add(conditionPreview.url);
    // A moment later still: a decode started for the last render (the canvas's Image(), a
    // thumbnail's lazy load) may outlive it, and a revoked URL fails it with ERR_FILE_NOT_FOUND.
    for (const url of shownUrls.current) if (!now.has(url)) setTimeout(() => URL.revokeObjectURL(url), URL_REVOKE_DELAY_MS);
    shownUrls.current = now;
  }, [photo, results, conditionPreview]);

  /** Shows the job cancelled at once; the engine is told now, or once it has accepted the job. */
  const cancelJob = useCallback(
    async (job: QueuedJob) => {
      dispatchJob({ type: 'cancelRequested', localId: job.localId });
      if (job.jobId) await sendCancel(job.localId, job.jobId);
      else cancelOnAccept.current.add(job.localId);
    },
    [sendCancel],
  );
  const active = queue.jobs.filter(isPending);
  // The main Cancel stops the running job, else the newest waiting one.
  const cancelTarget = active.find((j) => j.status === 'running') ?? active.at(-1);

  // ---- results ---------------------------------------------------------------------------------

  const visibleResults = useMemo(() => results.filter((r) => !hidden.current.has(r.id)), [results, revision]); // eslint-disable-line react-hooks/exhaustive-deps
  const selected = visibleResults.find((r) => r.id === selectedId) ?? visibleResults.at(-1) ?? null;

  const baseName = (photo?.name ?? project?.name ?? 'pentimento').replace(/\.[^.]+$/, '');
  const exportResult = async (r: ResultItem) => {
    const suggestedName = `${baseName}-result-${r.number}.png`;
    try {
      if (hasNativeDialogs) {
        const saved = await engineApi.saveImage!({ pngBase64: r.pngBase64, suggestedName });
        if (saved.saved) setNotice(`Saved ${saved.path ?? suggestedName}, with its generation parameters.`);
        return;
      }
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([base64ToBytes(r.pngBase64)], { type: 'image/png' }));
      link.download = suggestedName;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (e) {
      fail(e);
    }
  };
  const copyResult = async (r: ResultItem) => {
    try {
      await navigator.clipboard.write([new ClipboardItem({ 'image/png': new Blob([base64ToBytes(r.pngBase64)], { type: 'image/png' }) })]);
      setNotice(`Copied result ${r.number} to the clipboard.`);
    } catch (e) {
      setError({ code: 'IO_ERROR', message: `The clipboard refused the image (${e instanceof Error ? e.message : String(e)}); use Export instead.` });
    }
  };
  const reuse = (r: ResultItem) => {
    const { settings: back, skipped } = restoreFromParameters(r.parameters);
    update(back);
    const except = skipped.length ? `, except ${describeSkipped(skipped)}` : '';
    // A result edited by inversion: η re-edits from its own inversion (the engine keeps it), so
    // it can be made again exactly; Generate would invert anew, from the prompt now in the field.
    const extra = (r.parameters.extra && typeof r.parameters.extra === 'object' ? r.parameters.extra : {}) as Record<string, unknown>;
    const merged = { ...settingsRef.current, ...back };
    let more = '';
    if (typeof extra.inversionId === 'string' && isInversionMethod(merged.editMethod)) {
      const active = { inversionId: extra.inversionId, key: inversionSettingsKey(photoRef.current?.url, merged) };
      activeInversionRef.current = active;
      setActiveInversion(active);
      requestedEta.current = merged.eta;
      const from = typeof extra.initPrompt === 'string' && extra.initPrompt !== r.parameters.prompt ? ` (started from "${extra.initPrompt}")` : '';
      more = ` Moving η re-edits its inversion${from}; Generate inverts the photo again.`;
    }
    setNotice(`Settings of result ${r.number} are back in the controls${back.seed !== undefined ? ` (seed locked to ${back.seed})` : ''}${except}.${more}`);
  };

  // ---- window-wide input: shortcuts, drop, paste ------------------------------------------------

  useEffect(() => {
    const keys = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      // Ctrl+Enter generates from anywhere, the prompt field included.
      if (mod && e.key === 'Enter') {
        e.preventDefault();
        void generate();
        return;
      }
      if (isTyping(e.target)) return;
      if (mod && e.key.toLowerCase() === 'z') {
        e.preventDefault();
        if (e.shiftKey) redo();
        else undo();
      } else if (mod && e.key.toLowerCase() === 'y') {
        e.preventDefault();
        redo();
      } else if (!mod && e.key === 'b') setTool('brush');
      else if (!mod && e.key === 'e') setTool('eraser');
      else if (!mod && (e.key === '[' || e.key === ']')) {
        const s = settingsRef.current.brushSize;
        update({ brushSize: Math.max(2, Math.min(400, Math.round(e.key === '[' ? s / 1.25 : s * 1.25))) });
      }
    };
    let depth = 0;
    const enter = (e: DragEvent) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      depth++;
      setDragging(true);
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (e: DragEvent) => e.preventDefault();
    const drop = (e: DragEvent) => {
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const file = e.dataTransfer?.files[0];
      if (file) void openFile(file);
    };
    const paste = (e: ClipboardEvent) => {
      const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
      if (!file) return;
      e.preventDefault();
      void openFile(file);
    };
    window.addEventListener('keydown', keys);
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    window.addEventListener('paste', paste);
    return () => {
      window.removeEventListener('keydown', keys);
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
      window.removeEventListener('paste', paste);
    };
  }, [generate, undo, redo, openFile, update]);

  const onOpenClick = async () => {
    if (!hasNativeDialogs) return fileInput.current?.click();
    try {
      const chosen = await engineApi.openImage!();
      if (chosen) await openImage(chosen.base64, chosen.name);
    } catch (e) {
      fail(e);
    }
  };

  // ---- what the canvas shows -------------------------------------------------------------------

  const photoImage: CanvasImage | null = photo ? { url: photo.url, width: photo.width, height: photo.height, alt: `Photo: ${photo.name}` } : null;
  const generateBase: CanvasImage | null = selected ? { url: selected.url, width: selected.width, height: selected.height, alt: `Shown: result ${selected.number}` } : null;
  // Generate mode pans and zooms the shown result; its controller's mask is never painted.
  const generateController = useMemo(
    () => (generateBase ? new CanvasController(new MaskRaster(generateBase.width, generateBase.height), { radius: 1, hardness: 1, mode: 'brush' }) : null),
    [generateBase?.url], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const editing = mode !== 'generate';
  // Edit photo and Structure both start from the photo, so both compare a result with it.
  const fromPhoto = mode === 'edit' || mode === 'structure';
  const viewSwitchShown = fromPhoto && !!photo && visibleResults.length > 0;
  const comparing = fromPhoto && view === 'compare' && selected !== null;
  const { toggleColorScheme } = useMantineColorScheme();
  const colorScheme = useComputedColorScheme('light');
  const saveLabel = !project ? null : saveFailed ? 'Not saved' : pendingSaves > 0 ? 'Saving…' : 'Saved';

  const jobs = queue.jobs.filter((j) => !dismissed.has(j.localId));

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 340, breakpoint: 'sm', collapsed: { mobile: !controlsShown } }}
      aside={{ width: 360, breakpoint: 'lg', collapsed: { mobile: !queueShown } }}
      padding="md"
      // Narrow, the queue panel keeps its width and lies over the canvas instead of covering the window.
      style={wide ? undefined : ({ '--app-shell-aside-width': 'min(360px, 100vw)' } as React.CSSProperties)}
    >
      <AppShell.Header>
        <Group h="100%" px={wide ? 'md' : 'sm'} justify="space-between" wrap="nowrap">
          {/* On a narrow window the model's name gives way (its tooltip has it whole); the modes never do. */}
          <Group gap="sm" wrap="nowrap" style={{ flex: 1, minWidth: 0, overflow: 'hidden' }}>
            <Title order={3} style={{ letterSpacing: -0.5, flexShrink: 0 }} visibleFrom="lg">
              Pentimento
            </Title>
            <ModelBadge state={model} compact={!wide} />
          </Group>
          <SegmentedControl aria-label="Mode" value={mode} onChange={(v) => update({ mode: v as EditorMode })} data={MODES} size={wide ? 'sm' : 'xs'} style={{ flexShrink: 0 }} mx={wide ? 'sm' : 6} />
          <Group gap="xs" wrap="nowrap" style={{ flexShrink: 0 }}>
            {saveLabel && (
              // A fixed width (the longest label's), so "Saved" ↔ "Saving…" does not shift the header.
              <Text size="xs" c={saveFailed ? 'red' : 'dimmed'} data-testid="save-state" aria-live="polite" w="9ch" ta="right">
                {saveLabel}
              </Text>
            )}
            <ProjectsMenu
              current={project}
              list={async () => {
                const list = await engineApi.listProjects();
                for (const p of list) projectNames.current.set(p.id, p.name);
                return list;
              }}
              onOpen={(id) => void openProject(id)}
            />
            {/* Below 992 px the button says "Open", leaving the model's badge room. */}
            <Button onClick={onOpenClick} size={wide ? 'sm' : 'xs'} aria-label="Open image">
              Open
              <Box component="span" visibleFrom="md">
                &nbsp;image
              </Box>
            </Button>
            <Button
              hiddenFrom="sm"
              size="xs"
              variant={controlsShown ? 'light' : 'default'}
              aria-label={controlsShown ? 'Hide controls' : 'Show controls'}
              aria-expanded={controlsShown}
              onClick={() => setControlsShown((v) => !v)}
            >
              Controls
            </Button>
            {!wide && (
              <Button
                size="xs"
                variant={queueShown ? 'light' : 'default'}
                aria-label={`${queueShown ? 'Hide queue' : 'Show queue'}${active.length > 0 ? ` (${active.length} active)` : ''}`}
                aria-expanded={queueShown}
                onClick={() => setQueueShown((v) => !v)}
                rightSection={active.length > 0 ? <Badge size="xs" circle>{active.length}</Badge> : undefined}
              >
                Queue
              </Button>
            )}
            <Tooltip label={colorScheme === 'dark' ? 'Light theme' : 'Dark theme'}>
              <ActionIcon variant="default" size="lg" aria-label="Dark theme" aria-pressed={colorScheme === 'dark'} onClick={toggleColorScheme}>
                <span aria-hidden style={{ fontSize: 16 }}>
                  {colorScheme === 'dark' ? '☀' : '☾'}
                </span>
              </ActionIcon>
            </Tooltip>
          </Group>
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
      </AppShell.Header>

      <AppShell.Navbar p="md" style={controlsBeside || controlsShown ? undefined : { visibility: 'hidden' }}>
        <AppShell.Section grow component={ScrollArea} offsetScrollbars>
          {mode === 'personalize' ? (
            <PendingModePanel mode={mode} />
          ) : (
            <ControlsPanel
              settings={settings}
              update={update}
              tokens={model.status === 'error' ? 'unavailable' : tokens}
              editKind={editKind}
              blocked={blocked}
              action={action}
              canCancel={cancelTarget !== undefined}
              onGenerate={() => void generate()}
              onCancel={() => cancelTarget && void cancelJob(cancelTarget)}
              etaHint={
                inversionReady
                  ? 'Moving η re-edits from the cached inversion: no new inversion runs.'
                  : 'Generate inverts the photo and shows its reconstruction (η = 0) first; then η re-edits instantly.'
              }
              modeControls={
                mode === 'structure' ? <StructureControls settings={settings} update={update} controlnets={controlnets} preview={conditionPreview} /> : undefined
              }
            />
          )}
        </AppShell.Section>
      </AppShell.Navbar>

      <AppShell.Main style={{ height: '100dvh', display: 'flex', flexDirection: 'column', position: 'relative' }}>
        {model.status === 'error' && (
          <Alert color="red" title={`Model unavailable (${model.error.code})`} mb="sm" data-testid="model-error-alert">
            <Stack gap="xs" align="flex-start">
              <Text size="sm">{model.error.message}</Text>
              <Button size="xs" variant="default" onClick={retryModel}>
                Retry
              </Button>
            </Stack>
          </Alert>
        )}
        <CanvasToolbar
          maskTools={editing && mode === 'edit' && photo !== null}
          tool={tool}
          setTool={setTool}
          brushSize={settings.brushSize}
          setBrushSize={(n) => update({ brushSize: n })}
          hardness={settings.hardness}
          setHardness={(n) => update({ hardness: n })}
          onInvert={() => wholeMask('Invert mask', (m) => m.invert())}
          onClear={() => wholeMask('Clear mask', (m) => m.clear())}
          canUndo={history.canUndo}
          canRedo={history.canRedo}
          undoLabel={history.undoLabel}
          redoLabel={history.redoLabel}
          onUndo={undo}
          onRedo={redo}
          comparing={comparing}
        />
        <div style={{ position: 'relative', flex: 1, minHeight: 0, display: 'flex', flexDirection: 'column' }}>
          {/* Errors and notices float over the canvas's top edge, below its toolbar (which they would hide): shown in the flow they pushed the canvas down while they lasted. */}
          <Stack
            gap="xs"
            data-testid="notifications"
            style={{
              position: 'absolute',
              // Below the canvas's own top-left controls (the before/after switch) when they show.
              top: viewSwitchShown ? 58 : 'var(--mantine-spacing-xs)',
              left: 'var(--mantine-spacing-md)',
              right: 'var(--mantine-spacing-md)',
              zIndex: 150,
              alignItems: 'center',
              pointerEvents: 'none',
            }}
          >
            {error && !(model.status === 'error' && model.error.message === error.message) && (
              <Paper shadow="md" radius="md" maw={640} w="100%" style={{ pointerEvents: 'auto' }}>
                <Alert color="red" title={`Error (${error.code})`} withCloseButton closeButtonLabel="Dismiss error" onClose={() => setError(null)}>
                  {error.message}
                </Alert>
              </Paper>
            )}
            {notice && (
              <Paper shadow="md" radius="md" maw={640} w="100%" style={{ pointerEvents: 'auto' }}>
                <Alert color="blue" withCloseButton closeButtonLabel="Dismiss notice" onClose={() => setNotice(null)}>
                  {notice}
                </Alert>
              </Paper>
            )}
          </Stack>
          <CanvasView
            base={editing ? photoImage : generateBase}
            controller={editing ? controller : generateController}
            showMask={mode === 'edit' && !comparing}
            paintEnabled={mode === 'edit' && !comparing}
            compare={comparing ? { url: selected.url, width: selected.width, height: selected.height, alt: `After: result ${selected.number}` } : null}
            comparePosition={comparePosition}
            onComparePosition={setComparePosition}
            maskRevision={revision}
            brushDiameter={settings.brushSize}
            onCommit={record}
            busy={opening ? `Opening ${opening}…` : undefined}
            overlay={
              viewSwitchShown ? (
                <Group gap="xs" wrap="nowrap">
                  <SegmentedControl
                    size="xs"
                    aria-label="View"
                    value={view}
                    onChange={(v) => setView(v as 'mask' | 'compare')}
                    data={[
                      // Structure has no mask: its view is the photo (the condition's source).
                      { value: 'mask', label: mode === 'structure' ? 'Photo' : 'Photo & mask' },
                      { value: 'compare', label: 'Before / after' },
                    ]}
                  />
                  {comparing && (
                    <Slider w={140} size="sm" mr={6} min={0} max={100} value={comparePosition} onChange={setComparePosition} thumbLabel="Compare position" label={(v) => `${v}%`} />
                  )}
                </Group>
              ) : undefined
            }
            placeholder={
              <Stack align="center" gap={6} maw={420}>
                <Text fw={600}>{editing ? 'Open a photo to start' : 'Generated pictures appear here'}</Text>
                <Text size="sm" c="dimmed" ta="center">
                  {editing
                    ? 'Use Open image, drop an image anywhere, or paste one. Each photo becomes a project that is saved as you go.'
                    : 'Write a prompt and press Generate (or Ctrl+Enter).'}
                </Text>
              </Stack>
            }
          />
        </div>
        <Text size="xs" c="dimmed" mt={6} data-testid="status-line">
          {mode === 'edit' && photo
            ? `${photo.name} · ${photo.width}×${photo.height} · ${comparing ? 'drag across the picture (or the slider) to compare · Space-drag pans' : 'paint where the picture should change · Space-drag or middle button pans · wheel zooms'}`
            : mode === 'structure' && photo
              ? `${photo.name} · ${photo.width}×${photo.height} · ${comparing ? 'drag across the picture (or the slider) to compare · Space-drag pans' : `the ${settings.conditionType} map of this photo guides the result`}`
            : mode === 'generate' && selected
              ? `Result ${selected.number} · ${selected.width}×${selected.height}`
              : ' '}
        </Text>
      </AppShell.Main>

      <AppShell.Aside p="md" style={wide || queueShown ? undefined : { visibility: 'hidden' }}>
        <AppShell.Section grow component={ScrollArea} offsetScrollbars>
          <Group justify="space-between" mb="xs">
            <Title order={5}>Queue</Title>
            {active.length > 0 && <Badge variant="light">{active.length} active</Badge>}
          </Group>
          <QueuePanel jobs={jobs} onCancel={(j) => void cancelJob(j)} onDismiss={(j) => setDismissed((d) => new Set(d).add(j.localId))} />
          <Divider my="md" />
          <Title order={5} mb="xs">
            Results
          </Title>
          <ResultsGallery
            results={visibleResults}
            selectedId={selected?.id ?? null}
            onSelect={(r) => {
              setSelectedId(r.id);
              if (fromPhoto && photo) setView('compare');
            }}
            onReuse={reuse}
            onExport={(r) => void exportResult(r)}
            onCopy={(r) => void copyResult(r)}
            onUseAsPhoto={(r) => void openImage(r.pngBase64, `${baseName}-result-${r.number}.png`)}
          />
        </AppShell.Section>
      </AppShell.Aside>

      {dragging && (
        <Box
          aria-hidden
          style={{
            position: 'fixed',
            inset: 0,
            zIndex: 1000,
            display: 'grid',
            placeItems: 'center',
            background: 'color-mix(in srgb, var(--mantine-primary-color-filled) 18%, transparent)',
            border: '3px dashed var(--mantine-primary-color-filled)',
            pointerEvents: 'none',
          }}
        >
          <Text fw={700} size="xl">
            Drop the image to open it as a new project
          </Text>
        </Box>
      )}
    </AppShell>
  );
}
