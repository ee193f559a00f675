/**
 * Each service's recent log lines on this replica: deployment events, the runtime's
 * stdout/stderr, restarts. A bounded ring buffer per service, so a chatty script can
 * never grow the server's memory; `getLogs` reads it.
 */
import type { Clock } from '../clock.js';

const LINES_PER_SERVICE = 2000;
const MAX_LINE = 4096;

export class ServiceLogs {
  private readonly buffers = new Map<string, { lines: string[]; next: number }>();

  constructor(private readonly clock: Clock) {}

  /** Appends a line (cut to 4 KiB) for the service. */
  append(serviceId: string, stream: 'stdout' | 'stderr' | 'system', line: string): void {
    let buffer = this.buffers.get(serviceId);
    if (!buffer) {
      buffer = { lines: [], next: 0 };
      this.buffers.set(serviceId, buffer);
    }
    const text = `${new Date(this.clock.now()).toISOString()} [${stream}] ${line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line}`;
    if (buffer.lines.length < LINES_PER_SERVICE) buffer.lines.push(text);
    else {
      buffer.lines[buffer.next] = text;
      buffer.next = (buffer.next + 1) % LINES_PER_SERVICE;
    }
  }

  /** The service's lines, oldest first, at most `tail` of them. */
  read(serviceId: string, tail = LINES_PER_SERVICE): string {
    const buffer = this.buffers.get(serviceId);
    if (!buffer) return '';
    const ordered = buffer.lines.length < LINES_PER_SERVICE ? buffer.lines : [...buffer.lines.slice(buffer.next), ...buffer.lines.slice(0, buffer.next)];
    return ordered.slice(-tail).map((l) => `${l}\n`).join('');
  }

  /** Forgets a deleted service's lines. */
  forget(serviceId: string): void {
    this.buffers.delete(serviceId);
  }
}
