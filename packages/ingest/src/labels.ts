import { type Label, LabelName, sortLabels } from '@emberscope/model';
import { invalidArgument } from './errors.js';
import type { IngestLimits } from './limits.js';

// Label names, and `__name__` values: a Prometheus metric name without ':', which separates the parts
// of a profile type ID.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The one label-name rule of every ingestion path (Push labels, `/ingest` name labels, pprof sample
 * labels): dots become underscores (`otel.scope.name` → `otel_scope_name`), and any other character
 * outside `[A-Za-z0-9_]`, or a leading digit, is a 400 `bad_label`.
 */
function sanitizeLabelName(name: string): string {
  const sanitized = name.replaceAll('.', '_');
  if (!IDENTIFIER.test(sanitized)) {
    throw invalidArgument(
      'bad_label',
      `invalid label name ${JSON.stringify(name)}: label names may only contain A-Z a-z 0-9 _ ` +
        `(and '.', stored as '_') and must not start with a digit`,
    );
  }
  return sanitized;
}

/** A series label set under construction, keyed by sanitized label name. */
export class SeriesLabels {
  private readonly values: Map<string, string>;

  constructor(values: Iterable<[string, string]> = []) {
    this.values = new Map(values);
  }

  /** Adds a label; a second label whose sanitized name is taken is a 400 `bad_label`. */
  add(name: string, value: string): void {
    const sanitized = sanitizeLabelName(name);
    if (this.values.has(sanitized)) {
      const also = sanitized === name ? '' : ` (${JSON.stringify(name)} after replacing '.' with '_')`;
      throw invalidArgument('bad_label', `duplicate label name ${JSON.stringify(sanitized)}${also}`);
    }
    this.values.set(sanitized, value);
  }

  /** Sets a label, replacing any label with the same sanitized name. */
  set(name: string, value: string): void {
    this.values.set(sanitizeLabelName(name), value);
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** Removes a label and returns its value: how control labels such as `__delta__` are consumed. */
  take(name: string): string | undefined {
    const value = this.values.get(name);
    this.values.delete(name);
    return value;
  }

  clone(): SeriesLabels {
    return new SeriesLabels(this.values);
  }

  /**
   * The validated, sorted labels. Empty values are left out (Prometheus semantics: an empty label does
   * not exist). Throws 400 `bad_label` when `__name__` is missing or not a metric name, and
   * `limit_labels`, `limit_label_name` or `limit_label_value` when a limit is exceeded.
   */
  toLabels(limits: IngestLimits): Label[] {
    const labels: Label[] = [];
    for (const [name, value] of this.values) if (value !== '') labels.push({ name, value });
    sortLabels(labels);
    const profileName = this.values.get(LabelName.MetricName) ?? '';
    if (!IDENTIFIER.test(profileName)) {
      throw invalidArgument(
        'bad_label',
        `invalid profile name ${JSON.stringify(profileName)} in ${formatLabels(labels)}: label __name__ ` +
          `is required and must be a metric name (A-Z a-z 0-9 _, not starting with a digit)`,
      );
    }
    if (labels.length > limits.maxLabelsPerSeries) {
      throw invalidArgument(
        'limit_labels',
        `series ${formatLabels(labels)} has ${labels.length} labels, more than the limit of ${limits.maxLabelsPerSeries}`,
      );
    }
    for (const { name, value } of labels) {
      if (Buffer.byteLength(name) > limits.maxLabelNameLength) {
        throw invalidArgument(
          'limit_label_name',
          `label name ${JSON.stringify(abbreviate(name))} is longer than the limit of ${limits.maxLabelNameLength} bytes`,
        );
      }
      if (Buffer.byteLength(value) > limits.maxLabelValueLength) {
        throw invalidArgument(
          'limit_label_value',
          `value of label ${JSON.stringify(name)} (${JSON.stringify(abbreviate(value))}) is longer than ` +
            `the limit of ${limits.maxLabelValueLength} bytes`,
        );
      }
    }
    return labels;
  }
}

/** `{a="1", b="2"}` for error messages, cut short when long. */
function formatLabels(labels: readonly Label[]): string {
  return abbreviate(`{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`, 300);
}

function abbreviate(text: string, maxChars = 64): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…`;
}
