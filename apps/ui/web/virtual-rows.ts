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

  constructor(
    private readonly body: HTMLDivElement,
    private readonly rowHeight: number,
    private readonly createRow: () => HTMLDivElement,
    private readonly fillRow: (row: HTMLDivElement, index: number) => void,
  ) {
    this.body.append(this.spacer);
    this.body.addEventListener('scroll', () => this.schedule());
    new ResizeObserver(() => this.schedule()).observe(this.body);
  }

  /** The pooled rows now in the DOM (some hidden), e.g. to update their hover state. */
  get rows(): readonly HTMLDivElement[] {
    return this.pool;
  }

  /** Sets the number of rows and repaints the ones in view. */
  setCount(count: number): void {
    this.count = count;
    this.spacer.style.height = `${count * this.rowHeight}px`;
    this.render();
  }

  private schedule(): void {
    if (!this.frame)
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.render();
      });
  }

  render(): void {
    const first = Math.max(0, Math.floor(this.body.scrollTop / this.rowHeight) - 4);
    const visible = Math.ceil(this.body.clientHeight / this.rowHeight) + 8;
    const last = Math.min(this.count, first + visible);
    while (this.pool.length < last - first) {
      const row = this.createRow();
      this.body.append(row);
      this.pool.push(row);
    }
    for (let k = 0; k < this.pool.length; k++) {
      const row = this.pool[k];
      const index = first + k;
      if (index >= last) {
        row.style.display = 'none';
        continue;
      }
      row.style.display = '';
      row.style.transform = `translateY(${index * this.rowHeight}px)`;
      this.fillRow(row, index);
    }
  }
}
