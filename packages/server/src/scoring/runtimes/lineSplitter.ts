/**
 * Splits a worker's byte stream into lines with a cap per line, in place of `readline`,
 * which buffers a line without end until V8's string limit throws out of its 'data'
 * handler and takes the server down. Two policies past the cap: a log stream keeps the
 * line's first `maxBytes` and drops the rest (`cutLines`); an answer channel gives up
 * (`failPast`: the runtime kills the worker, whose answer could not be read anyway).
 * A line that fits in one chunk is decoded straight from it (no copy, no concatenation).
 */
import type { Readable } from 'node:stream';

/** Appended to a log line whose end was dropped. */
export const CUT_MARKER = '… (line cut)';

/** Cap of one log line from a script's stdout or stderr, in bytes. */
export const MAX_LOG_LINE_BYTES = 16 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export class LineSplitter {
  /** The current line's bytes so far (at most `maxBytes` of them). */
  private parts: Buffer[] = [];
  private size = 0;
  /** The current line went past the cap: its remaining bytes are dropped. */
  private cut = false;
  /** failPast: the cap was passed once; nothing more is read. */
  private failed = false;

  /**
   * @param maxBytes the longest line kept, without its line break.
   * @param onLine receives each line (without `\n` or `\r\n`).
   * @param onTooLong undefined: over-long lines are cut and marked; a function: called
   *   once when a line passes the cap, and nothing more is read.
   */
  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onTooLong?: () => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.failed) return;
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
      if (this.size === 0 && !this.cut && end - start <= this.maxBytes) this.onLine(decode(chunk, start, end));
      else {
        this.keep(chunk, start, end);
        if (this.failed) return;
        this.emit();
      }
      start = end + 1;
    }
    if (start < chunk.length) this.keep(chunk, start, chunk.length);
  }

  /** The stream ended: a last line without a line break is still a line. */
  end(): void {
    if (!this.failed && (this.size > 0 || this.cut)) this.emit();
  }

  /** Adds bytes of the current line, up to the cap. */
  private keep(chunk: Buffer, start: number, end: number): void {
    if (this.cut) return;
    const room = this.maxBytes - this.size;
    if (end - start <= room) {
      // A part of a chunk is copied: a slice would keep the whole chunk alive while the line waits for its end.
      if (end > start) this.parts.push(start === 0 && end === chunk.length ? chunk : Buffer.from(chunk.subarray(start, end)));
      this.size += end - start;
      return;
    }
    if (this.onTooLong) {
      this.failed = true;
      this.parts = [];
      this.onTooLong();
      return;
    }
    let stop = start + room;
    // Back up to a character boundary: no half of a UTF-8 sequence before the marker.
    while (stop > start && (chunk[stop]! & 0xc0) === 0x80) stop -= 1;
    if (stop > start) this.parts.push(Buffer.from(chunk.subarray(start, stop)));
    this.size += stop - start;
    this.cut = true;
  }

  private emit(): void {
    const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    const line = decode(whole, 0, this.size);
    const cut = this.cut;
    this.parts = [];
    this.size = 0;
    this.cut = false;
    this.onLine(cut ? `${line}${CUT_MARKER}` : line);
  }
}

/** The bytes as UTF-8, without a trailing `\r` (a `\r\n` line break). */
function decode(buffer: Buffer, start: number, end: number): string {
  if (end > start && buffer[end - 1] === CARRIAGE_RETURN) end -= 1;
  return buffer.toString('utf8', start, end);
}

/**
 * Reads `stream` line by line into `onLine`, each line cut to `maxBytes`. Never throws
 * out of the stream's handlers; a stream error ends the reading quietly (the worker's
 * exit is what the runtime acts on).
 */
export function forwardLines(stream: Readable, onLine: (line: string) => void, maxBytes = MAX_LOG_LINE_BYTES): LineSplitter {
  const splitter = new LineSplitter(maxBytes, onLine);
  readInto(stream, splitter);
  return splitter;
}

/** Feeds `stream`'s chunks to `splitter`, guarding the handlers against anything they throw. */
export function readInto(stream: Readable, splitter: LineSplitter, onError: (error: unknown) => void = () => undefined): void {
  stream.on('data', (chunk: Buffer | string) => {
    try {
      splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    } catch (error) {
      onError(error);
    }
  });
  stream.on('end', () => {
    try {
      splitter.end();
    } catch (error) {
      onError(error);
    }
  });
  stream.on('error', () => undefined);
}
