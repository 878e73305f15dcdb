import { HELP } from './help-texts.js';

/**
 * `--help` of every `canh` command, in Vietnamese (default) and English, and the one way
 * a command reports a user error (unknown option, missing value): a clear line and the
 * command's usage on stderr, exit code 2, never a stack trace. The texts themselves are
 * help-texts.ts. No imports beyond those and the version: the agent bundle carries these files too.
 */

export type CliLang = 'vi' | 'en';

/**
 * The language of the CLI's own texts: `--lang vi|en`, else `CANH_LANG`, else the
 * POSIX locale (`LC_ALL`, `LC_MESSAGES`, `LANG`) when it is English; Vietnamese otherwise
 * (a server's `C.UTF-8` or an unset locale says nothing about its officer).
 */
export function cliLang(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliLang {
  const flag = langFlag(argv);
  if (flag === 'vi' || flag === 'en') return flag;
  for (const v of [env.CANH_LANG, env.LC_ALL, env.LC_MESSAGES, env.LANG]) {
    if (!v) continue;
    const l = v.toLowerCase();
    if (l.startsWith('vi')) return 'vi';
    if (l.startsWith('en')) return 'en';
    // CANH_LANG set to something else, or a locale such as C/POSIX: keep looking, then Vietnamese.
  }
  return 'vi';
}

/** The value of `--lang X` / `--lang=X` before a `--`, if any. */
export function langFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--lang') return argv[i + 1];
    if (a.startsWith('--lang=')) return a.slice('--lang='.length);
  }
  return undefined;
}

/** `argv` without `--lang X` / `--lang=X` (for commands that have no `--lang` of their own). */
export function withoutLang(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a === '--lang') {
      i++;
      continue;
    }
    if (a.startsWith('--lang=')) continue;
    out.push(a);
  }
  return out;
}

/** True when `-h` or `--help` is among the arguments (before a `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '-h' || a === '--help') return true;
  }
  return false;
}

/** Commands with a `--help` text (the snapshot test walks them all). */
export const HELP_COMMANDS: readonly string[] = Object.keys(HELP).filter((c) => c !== 'canh');

export function helpText(command: string | undefined, lang: CliLang): string {
  return (HELP[command ?? 'canh'] ?? HELP.canh!)[lang];
}

/**
 * A user error of `command` (`canh credentials: unknown option --foo`) with its usage
 * on stderr; returns 2, the exit code of a usage error.
 */
export function usageError(command: string | undefined, message: string, lang: CliLang, err: NodeJS.WritableStream = process.stderr): number {
  const hint = lang === 'vi' ? `(canh ${command ? `${command} ` : ''}--help để xem hướng dẫn)` : `(canh ${command ? `${command} ` : ''}--help for help)`;
  err.write(`canh${command ? ` ${command}` : ''}: ${message}\n\n${helpText(command, lang)}\n${hint}\n`);
  return 2;
}

/**
 * The message of a `node:util` parseArgs error (unknown option, missing or unexpected
 * value, stray argument) in the CLI's language; undefined for any other error.
 */
export function parseArgsMessage(err: unknown, lang: CliLang): string | undefined {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e.code !== 'string' || !e.code.startsWith('ERR_PARSE_ARGS_')) return undefined;
  const text = typeof e.message === 'string' ? e.message : '';
  const quoted = /'([^']*)'/.exec(text)?.[1] ?? /"([^"]*)"/.exec(text)?.[1] ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return lang === 'vi' ? `không có tùy chọn ${quoted}` : `unknown option: ${quoted}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // "Option '--site <value>' argument missing" or "Option '--json' does not take an argument".
      if (/argument missing/.test(text)) return lang === 'vi' ? `tùy chọn ${quoted.split(' ')[0]} cần một giá trị` : `option ${quoted.split(' ')[0]} needs a value`;
      return lang === 'vi' ? `tùy chọn ${quoted.split(' ')[0]} không nhận giá trị` : `option ${quoted.split(' ')[0]} takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return lang === 'vi' ? `đối số thừa: ${quoted}` : `unexpected argument: ${quoted}`;
    default:
      return text;
  }
}
