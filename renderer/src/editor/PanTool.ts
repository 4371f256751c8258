import type { ScreenPoint } from './coordinates';
import { panBy, type Viewport } from './Viewport';

type State = { kind: 'idle' } | { kind: 'panning'; last: ScreenPoint };

/** Dragging the view, Idle → Panning → Idle; works in screen space and never touches the mask. */
export class PanTool {
  private state: State = { kind: 'idle' };

  get panning(): boolean {
    return this.state.kind === 'panning';
  }

  pointerDown(p: ScreenPoint): void {
    this.state = { kind: 'panning', last: p };
  }

  pointerMove(p: ScreenPoint, v: Viewport): Viewport {
    if (this.state.kind !== 'panning') return v;
    const moved = panBy(v, p.x - this.state.last.x, p.y - this.state.last.y);
    this.state = { kind: 'panning', last: p };
    return moved;
  }

  pointerUp(): void {
    this.state = { kind: 'idle' };
  }
}
