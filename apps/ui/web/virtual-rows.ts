/**
 * Fixed-height rows of a scrolling body, virtualised: only the rows in view (plus a margin) exist in the
 * DOM, recycled from a pool as the body scrolls or resizes, so 100k rows cost the same as 30. The tables
 * say how to build an empty row and how to fill one; this owns the scrolling, the pool and the layout.
 */
export class VirtualRows {
  private readonly spacer = document.createElement('div');
  private readonly pool: HTMLDivElement[] = [];
  private count = 0;
  private frame = 0;
  // The body's scroll offset and height, kept from its events: reading them while rows are being refilled
  // would force a synchronous layout in the middle of a zoom.
  private scrollTop = 0;
  private height = 0;
  // The part of the body inside the window, in its own coordinates: a table reaching below the window fills only
  // the rows one can see (28 instead of 36 at 1440×900, and a zoom refills them all). An IntersectionObserver
  // reports it after layout, without forcing one.
  private visibleTop = 0;
  private visibleBottom = Number.POSITIVE_INFINITY;
  /** Rows in view from this pool slot on still show what they showed before a split `setCount`; none when -1. */
  private staleFrom = -1;
  /** How many rows each step of a split refill fills. */
  private rowsPerStep = 0;

  constructor(
    private readonly body: HTMLDivElement,
    private readonly rowHeight: number,
    private readonly createRow: () => HTMLDivElement,
    private readonly fillRow: (row: HTMLDivElement, index: number) => void,
  ) {
    this.body.append(this.spacer);
    this.body.addEventListener('scroll', () => {
      this.scrollTop = this.body.scrollTop;
      this.schedule();
    });
    // Rendered in the observer's callback, which runs after layout and before paint: no frame shows too few rows.
    new ResizeObserver(([entry]) => {
      this.height = entry.contentRect.height;
      this.render();
    }).observe(this.body);
    new IntersectionObserver(
      (entries) => {
        const entry = entries[entries.length - 1];
        const top = entry.boundingClientRect.top;
        // Out of view (or hidden) it fills as if all of it were seen: what comes into view is then filled already.
        this.visibleTop = entry.isIntersecting ? entry.intersectionRect.top - top : 0;
        this.visibleBottom = entry.isIntersecting
          ? entry.intersectionRect.bottom - top
          : Number.POSITIVE_INFINITY;
        this.render();
      },
      // Reported at every 1% of the body coming into view or leaving it, as the page scrolls.
      { threshold: Array.from({ length: 101 }, (_, i) => i / 100) },
    ).observe(this.body);
  }

  /** The pooled rows now in the DOM (some hidden), e.g. to update their hover state. */
  get rows(): readonly HTMLDivElement[] {
    return this.pool;
  }

  /**
   * Sets the number of rows and refills the ones in view, or with `steps` > 1 only the first of that many parts of
   * them: the rest keep what they showed until `fillStep` (or a scroll or resize) fills them, so that a refill can
   * be spread over frames. Returns whether rows were left for `fillStep`.
   */
  setCount(count: number, steps = 1): boolean {
    this.count = count;
    this.spacer.style.height = `${count * this.rowHeight}px`;
    // The browser clamps the scroll offset to the new height (its scroll event comes later).
    this.scrollTop = Math.max(0, Math.min(this.scrollTop, count * this.rowHeight - this.height));
    this.render(steps);
    return this.staleFrom >= 0;
  }

  /** Fills the next part of the rows a split `setCount` left showing their old content; returns whether more are left. */
  fillStep(): boolean {
    if (this.staleFrom < 0) return false;
    const [first, last] = this.range();
    this.fill(first, this.staleFrom, Math.min(last - first, this.staleFrom + this.rowsPerStep), last - first);
    return this.staleFrom >= 0;
  }

  private schedule(): void {
    if (!this.frame)
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.render();
      });
  }

  /** The indexes of the first row in view and past the last one. */
  private range(): [number, number] {
    // Four rows of margin on each side (none above the first row), so scrolling rarely shows an empty one.
    const top = this.scrollTop + this.visibleTop;
    const bottom = this.scrollTop + Math.min(this.height, this.visibleBottom);
    const first = Math.max(0, Math.floor(top / this.rowHeight) - 4);
    return [first, Math.min(this.count, Math.ceil(bottom / this.rowHeight) + 4)];
  }

  private render(steps = 1): void {
    const [first, last] = this.range();
    const rows = last - first;
    while (this.pool.length < rows) {
      const row = this.createRow();
      this.body.append(row);
      this.pool.push(row);
    }
    for (let k = rows; k < this.pool.length; k++) this.pool[k].style.display = 'none';
    this.rowsPerStep = Math.ceil(rows / steps);
    this.fill(first, 0, Math.min(rows, this.rowsPerStep), rows);
  }

  /** Fills pool slots `from`..`to` of the `rows` in view (row `first + k` in slot k); the slots after `to` stay stale. */
  private fill(first: number, from: number, to: number, rows: number): void {
    for (let k = from; k < to; k++) {
      const row = this.pool[k];
      const index = first + k;
      row.style.display = '';
      row.style.transform = `translateY(${index * this.rowHeight}px)`;
      this.fillRow(row, index);
    }
    this.staleFrom = to < rows ? to : -1;
  }
}
