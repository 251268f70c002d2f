/**
 * Secret scrubbing for every log line, error message and report. Secrets come from the config schema's
 * `secret()` markers and from passwords inside URLs; URL user-info is masked even when unknown.
 */

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*:)[^\s@'"/]+@/gi;

/** Replaces secret values and URL passwords with `***`. */
export class Redactor {
  private secrets: string[] = [];

  /** Add secret values (longest first, so a secret containing another is masked whole). */
  add(values: Iterable<string>): void {
    const set = new Set([...this.secrets, ...[...values].filter((v) => v && v.length >= 3)]);
    for (const v of [...set]) {
      set.add(encodeURIComponent(v));
      set.add(JSON.stringify(v).slice(1, -1));
    }
    this.secrets = [...set].sort((a, b) => b.length - a.length);
  }

  /** The text with every known secret and URL password masked. */
  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out.replace(URL_USERINFO, '$1***@');
  }
}

/** The process-wide redactor the logger and the CLI use. */
export const redactor = new Redactor();
