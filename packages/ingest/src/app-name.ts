import type { Label } from '@emberscope/model';
import { invalidArgument } from './errors.js';

/** The `name` query parameter of `/ingest`: `app.name{key=value,...}`. */
export interface ParsedAppName {
  /** Everything before `{`, trimmed; for text formats it still carries the profile-type suffix. */
  appName: string;
  /** Labels in order of first appearance; a repeated key keeps its last value. Never holds `__name__`. */
  labels: Label[];
}

const APP_NAME_CHAR = /^[A-Za-z0-9_.\-/]$/;
const LABEL_KEY_CHAR = /^[A-Za-z0-9_.]$/;
const ALLOWED_APP_NAME = 'A-Z a-z 0-9 _ . - /';
const ALLOWED_LABEL_KEY = 'A-Z a-z 0-9 _ .';

/**
 * Parses the name character by character as Pyroscope does: `{` starts the labels, pairs are `key=value`
 * separated by `,`, and `}` ends parsing (anything after it is ignored). Keys and values are trimmed;
 * values are taken literally (no quoting, so `,` and `}` cannot appear in them). A pair left open at the
 * end of the input is kept. The reserved key `__name__` (it holds the app name in Pyroscope) is ignored.
 *
 * Throws a 400 `bad_name` IngestError for an empty app name, a disallowed character in the app name or
 * a key, or an empty key.
 */
export function parseAppName(name: string): ParsedAppName {
  const brace = name.indexOf('{');
  const appName = (brace < 0 ? name : name.slice(0, brace)).trim();
  if (appName === '') {
    throw invalidArgument(
      'bad_name',
      `service name is required: the name parameter ${JSON.stringify(name)} has no application name`,
    );
  }
  checkChars(name, 'application name', appName, APP_NAME_CHAR, ALLOWED_APP_NAME);

  const labels = new Map<string, string>();
  if (brace >= 0) {
    let key = '';
    // Whether `key` is only whitespace, kept up to date so that each ',' does not re-trim the key (which
    // made `{` + n spaces + n commas quadratic).
    let keyBlank = true;
    let value = '';
    let inValue = false;
    const commit = () => {
      const k = key.trim();
      if (k === '') {
        throw invalidArgument('bad_name', `invalid name ${JSON.stringify(name)}: a label has an empty key`);
      }
      checkChars(name, 'label key', k, LABEL_KEY_CHAR, ALLOWED_LABEL_KEY);
      if (k !== '__name__') {
        labels.set(k, value.trim());
      }
      key = '';
      keyBlank = true;
      value = '';
      inValue = false;
    };
    for (const char of name.slice(brace + 1)) {
      if (char === '}') {
        if (inValue) commit();
        break;
      }
      if (inValue) {
        if (char === ',') commit();
        else value += char;
      } else if (char === '=') {
        inValue = true;
      } else if (char === ',' && keyBlank) {
        // `{a=b,}` and `{,a=b}`: an empty slot between separators is harmless
      } else {
        key += char;
        if (keyBlank && char.trim() !== '') keyBlank = false;
      }
    }
    if (inValue) commit();
    else if (key.trim() !== '') {
      throw invalidArgument(
        'bad_name',
        `invalid name ${JSON.stringify(name)}: label ${JSON.stringify(key.trim())} has no "=value"`,
      );
    }
  }
  return { appName, labels: [...labels].map(([labelName, value]) => ({ name: labelName, value })) };
}

function checkChars(name: string, what: string, text: string, allowed: RegExp, allowedText: string): void {
  for (const char of text) {
    if (!allowed.test(char)) {
      throw invalidArgument(
        'bad_name',
        `invalid name ${JSON.stringify(name)}: ${what} ${JSON.stringify(text)} contains ` +
          `${JSON.stringify(char)}; allowed characters are ${allowedText}`,
      );
    }
  }
}
