/**
 * Each service's recent log lines on this replica: deployment events, the runtime's
 * stdout/stderr, restarts. A bounded ring buffer per service (at most 2,000 lines and
 * 1 MiB of text, the oldest lines dropped first), so a chatty script can never grow the
 * server's memory; `getLogs` reads it.
 */
import type { Clock } from '../clock.js';
import { CUT_MARKER, MAX_LOG_LINE_BYTES } from './runtimes/lineSplitter.js';

export const LINES_PER_SERVICE = 2000;
/** The text kept per service, in characters (stamps included). */
export const CHARS_PER_SERVICE = 1024 * 1024;
/** The longest line kept, in characters: a runtime's cut line with its marker passes whole; the rest of a longer one is cut. */
export const MAX_LINE = MAX_LOG_LINE_BYTES + CUT_MARKER.length;

interface Ring {
  lines: string[];
  /** Index of the oldest line. */
  head: number;
  count: number;
  chars: number;
}

export class ServiceLogs {
  private readonly buffers = new Map<string, Ring>();

  constructor(private readonly clock: Clock) {}

  /** Appends a line (cut to 16 KiB) for the service, dropping its oldest lines past the count or size budget. */
  append(serviceId: string, stream: 'stdout' | 'stderr' | 'system', line: string): void {
    let ring = this.buffers.get(serviceId);
    if (!ring) {
      ring = { lines: [], head: 0, count: 0, chars: 0 };
      this.buffers.set(serviceId, ring);
    }
    const stamp = `${new Date(this.clock.now()).toISOString()} [${stream}] `;
    // A cut line is copied through a Buffer: `slice` (and a template around it) would keep
    // a reference to the whole original line, however large, for as long as the cut one lives.
    const text = line.length > MAX_LINE ? Buffer.from(`${stamp}${line.slice(0, MAX_LOG_LINE_BYTES)}${CUT_MARKER}`, 'utf8').toString('utf8') : stamp + line;
    while (ring.count > 0 && (ring.count >= LINES_PER_SERVICE || ring.chars + text.length > CHARS_PER_SERVICE)) {
      ring.chars -= ring.lines[ring.head]!.length;
      ring.head = (ring.head + 1) % LINES_PER_SERVICE;
      ring.count -= 1;
    }
    const at = (ring.head + ring.count) % LINES_PER_SERVICE;
    if (at === ring.lines.length) ring.lines.push(text);
    else ring.lines[at] = text;
    ring.count += 1;
    ring.chars += text.length;
  }

  /** The service's lines, oldest first, at most `tail` of them. */
  read(serviceId: string, tail = LINES_PER_SERVICE): string {
    const ring = this.buffers.get(serviceId);
    if (!ring) return '';
    const take = Math.max(0, Math.min(tail, ring.count));
    const out: string[] = [];
    for (let i = ring.count - take; i < ring.count; i++) out.push(`${ring.lines[(ring.head + i) % LINES_PER_SERVICE]}\n`);
    return out.join('');
  }

  /** Characters and lines held for the service (what the budgets bound). */
  usage(serviceId: string): { lines: number; chars: number } {
    const ring = this.buffers.get(serviceId);
    return { lines: ring?.count ?? 0, chars: ring?.chars ?? 0 };
  }

  /** Forgets a deleted service's lines. */
  forget(serviceId: string): void {
    this.buffers.delete(serviceId);
  }
}
