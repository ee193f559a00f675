/**
 * The worker's end of the host protocol (processWorker.ts has the server's end), for the
 * hosts written in TypeScript (javascript/host.mts, onnx/host.mts): fd 3 brings the
 * configuration line then requests, fd 4 takes control messages and answers, one line
 * each. Node's built-ins only: the sandbox shows this directory to the hosts as it is.
 */
import net from 'node:net';

/** A control message: once `ready` or `initError`; `fatal` from a host about to die. */
export type HostMessage = { ready: true } | { initError: string } | { fatal: string };

/** One request's result: the JSON answer, or why the input was refused. */
export type HostAnswer = { ok: true; json: string } | { ok: false; message: string };

/** Exit status after the heap or an allocation ran out (processWorker.ts EXIT_OUT_OF_MEMORY). */
export const EXIT_OUT_OF_MEMORY = 75;
/** Exit status after an error escaped the host (a throw in a script's timer). */
export const EXIT_UNCAUGHT = 70;

export interface HostChannel {
  send(message: HostMessage): void;
  /** "J<id> <json>" (one line, passed on as it is) or "E<id> <message as a JSON string>". */
  answer(id: number, answer: HostAnswer): void;
  /** Flushes what was sent, then exits with `code`. */
  exit(code: number): void;
}

/** A request line: "R<id> <body>" (a body without line breaks, as sent) or "Q<id> <body as a JSON string>". */
export function parseRequest(line: string): { id: number; body: string } {
  const space = line.indexOf(' ');
  const rest = line.slice(space + 1);
  return { id: Number(line.slice(1, space)), body: line[0] === 'R' ? rest : (JSON.parse(rest) as string) };
}

/** Opens fds 3 and 4; `onLine` gets each line read (the configuration first). The server closing fd 3 ends the host. */
export function openChannel(onLine: (line: string) => void): HostChannel {
  const out = new net.Socket({ fd: 4, readable: false, writable: true });
  out.on('error', () => process.exit(EXIT_UNCAUGHT));
  const requests = new net.Socket({ fd: 3, readable: true, writable: false });
  requests.setEncoding('utf8');
  let buffered = '';
  requests.on('data', (chunk: string) => {
    buffered += chunk;
    let at: number;
    while ((at = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      onLine(line);
    }
  });
  requests.on('end', () => process.exit(0));
  requests.on('error', () => process.exit(0));
  return {
    send: (message) => out.write(`${JSON.stringify(message)}\n`),
    answer: (id, answer) => out.write(answer.ok ? `J${id} ${answer.json}\n` : `E${id} ${JSON.stringify(answer.message)}\n`),
    exit: (code) => {
      out.end(() => process.exit(code));
      setTimeout(() => process.exit(code), 500).unref();
    },
  };
}
