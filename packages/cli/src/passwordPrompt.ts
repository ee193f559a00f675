/**
 * Reading a password on the terminal without echo, as getpass does: the terminal is put
 * in raw mode for the prompt, nothing typed is written back, and it is restored however
 * the prompt ends. Backspace, Ctrl-U (clear), Enter, Ctrl-C and Ctrl-D (cancel) work;
 * other control keys and escape sequences (arrow keys) are ignored.
 */
import { StringDecoder } from 'node:string_decoder';
import { UsageError } from './usageError.js';

/** The terminal side of a prompt: what `process.stdin` is when it is a TTY. */
export interface PromptInput {
  readonly isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  off(event: 'end', listener: () => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** Where the prompt is written. */
export interface PromptOutput {
  write(text: string): unknown;
}

/** The prompt was ended with Ctrl-C or Ctrl-D. */
export class PromptCancelledError extends Error {
  constructor() {
    super('the password prompt was cancelled');
    this.name = 'PromptCancelledError';
  }
}

/** Whether {@link readHidden} can prompt on `input`. */
export function canPrompt(input: PromptInput = process.stdin): boolean {
  return input.isTTY === true && typeof input.setRawMode === 'function';
}

/**
 * Writes `prompt` and reads one line from the terminal without echoing it.
 * @example const password = await readHidden('Password: ');
 */
export function readHidden(prompt: string, input: PromptInput = process.stdin, output: PromptOutput = process.stderr): Promise<string> {
  if (!canPrompt(input)) return Promise.reject(new UsageError('cannot prompt: the standard input is not a terminal'));
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    const wasRaw = input.isRaw === true;
    let value = '';
    /** 0: normal; 1: after ESC; 2: inside a CSI/SS3 sequence. */
    let escape = 0;
    const finish = (err: Error | undefined) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.setRawMode!(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      for (const ch of text) {
        if (escape === 1) {
          escape = ch === '[' || ch === 'O' ? 2 : 0;
          continue;
        }
        if (escape === 2) {
          if (ch >= '@' && ch <= '~') escape = 0; // the sequence's final byte
          continue;
        }
        switch (ch) {
          case '\r':
          case '\n':
            finish(undefined);
            return;
          case '\u0003': // Ctrl-C
            finish(new PromptCancelledError());
            return;
          case '\u0004': // Ctrl-D
            if (value === '') {
              finish(new PromptCancelledError());
              return;
            }
            break;
          case '\u007f': // Backspace (DEL), and Ctrl-H
          case '\b':
            value = Array.from(value).slice(0, -1).join('');
            break;
          case '\u0015': // Ctrl-U
            value = '';
            break;
          case '\u001b':
            escape = 1;
            break;
          default:
            if (ch >= ' ' && ch !== '\u007f') value += ch;
        }
      }
    };
    // The terminal went away (its side of a pseudo-terminal closed): nothing more will be typed.
    const onEnd = () => finish(new PromptCancelledError());
    // Raw mode first: a key typed as soon as the prompt shows must not be echoed by the terminal.
    input.setRawMode!(true);
    output.write(prompt);
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  });
}
