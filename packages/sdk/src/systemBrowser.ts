/**
 * Opening "the user's browser" at a URL, as az and xdg-open do: `$BROWSER` when it is
 * set (one command, given the URL as its argument), else the platform's opener
 * (`xdg-open`, macOS's `open`, Windows' URL handler). No shell is involved, so nothing in
 * the URL is interpreted.
 */
import { spawn } from 'node:child_process';

/** The program and arguments that open `url` in a browser. */
export interface BrowserCommand {
  command: string;
  args: string[];
}

/**
 * The command {@link openSystemBrowser} runs for `url`.
 * @example browserCommand('https://h/authorize?x=1', { BROWSER: 'firefox' }, 'linux') // { command: 'firefox', args: ['https://h/authorize?x=1'] }
 */
export function browserCommand(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): BrowserCommand {
  const browser = env.BROWSER?.trim();
  if (browser) return { command: browser, args: [url] };
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // `start` would go through cmd.exe, which expands %…% inside the URL; the URL handler takes it as it is.
  if (platform === 'win32') return { command: 'rundll32.exe', args: ['url.dll,FileProtocolHandler', url] };
  return { command: 'xdg-open', args: [url] };
}

/**
 * Opens `url` (http or https) in the user's browser. Resolves when the opener exits
 * successfully (xdg-open and open return at once; a browser named by `$BROWSER` may run
 * until it is closed, and then the promise stays pending); rejects when the opener cannot
 * be started or exits with a failure. The opener never keeps this process alive.
 */
export function openSystemBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(new TypeError('Only an http or https URL can be opened in a browser.'));
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return Promise.reject(new TypeError('Only an http or https URL can be opened in a browser.'));
  const { command, args } = browserCommand(parsed.href, env);
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(command, args, { stdio: 'ignore', env });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    child.once('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code === 'ENOENT' ? `${command} was not found` : `${command} could not be started (${err.code ?? err.message})`)));
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code === null ? `signal ${signal}` : `status ${code}`}`))));
    child.unref();
  });
}
