import { anchored, type Labels, labelsKey, type Matcher } from '@emberscope/model';

/**
 * The series of a block: dense series ids, their labels, and postings (label name → value → ascending
 * series ids) to resolve matchers without scanning every label set.
 */
export class SeriesPostings {
  private readonly labels: Labels[] = [];
  private readonly postings = new Map<string, Map<string, number[]>>();

  get size(): number {
    return this.labels.length;
  }

  labelsOf(id: number): Labels {
    return this.labels[id];
  }

  /** Adds a series that is not in the index yet; returns its id. */
  add(labels: Labels): number {
    const id = this.labels.length;
    this.labels.push(labels);
    for (const { name, value } of labels) {
      let values = this.postings.get(name);
      if (!values) {
        values = new Map();
        this.postings.set(name, values);
      }
      const list = values.get(value);
      if (list) list.push(id);
      else values.set(value, [id]);
    }
    return id;
  }

  /**
   * Ids of the series matching every matcher, ascending. Prometheus semantics: a missing label has
   * the value "", so a matcher that accepts "" also selects series without the label.
   */
  select(matchers: readonly Matcher[]): number[] {
    const selected = new Uint8Array(this.labels.length).fill(1);
    for (const m of matchers) {
      const test = valueTester(m);
      const values = this.postings.get(m.name);
      if (test('')) {
        // Keep everything except the series whose value is rejected.
        if (values) for (const [v, ids] of values) if (!test(v)) for (const id of ids) selected[id] = 0;
      } else {
        const accepted = new Uint8Array(this.labels.length);
        if (values) for (const [v, ids] of values) if (test(v)) for (const id of ids) accepted[id] = 1;
        for (let id = 0; id < selected.length; id++) selected[id] &= accepted[id];
      }
    }
    const out: number[] = [];
    for (let id = 0; id < selected.length; id++) if (selected[id]) out.push(id);
    return out;
  }
}

/**
 * The series of a head, which also finds a series by its labels (every append looks its series up).
 * Blocks do without this map: its keys are most of an index's memory.
 */
export class SeriesIndex extends SeriesPostings {
  private readonly ids = new Map<string, number>();

  get(labels: Labels): number | undefined {
    return this.ids.get(labelsKey(labels));
  }

  getOrAdd(labels: Labels): number {
    const key = labelsKey(labels);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.add(labels);
      this.ids.set(key, id);
    }
    return id;
  }
}

function valueTester(m: Matcher): (value: string) => boolean {
  switch (m.op) {
    case '=':
      return (v) => v === m.value;
    case '!=':
      return (v) => v !== m.value;
    case '=~': {
      const re = m.re ?? anchored(m.value);
      return (v) => re.test(v);
    }
    case '!~': {
      const re = m.re ?? anchored(m.value);
      return (v) => !re.test(v);
    }
  }
}
