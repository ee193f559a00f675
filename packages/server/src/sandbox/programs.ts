/**
 * What a sandbox must show for a worker's program to run: the real executable (a pyenv
 * shim or a PATH name resolved) and the directories of its installation that lie outside
 * the read-only /usr every sandbox has (a virtualenv, /opt/python, ~/.nvm). A Python is
 * asked once where it lives (`sys.executable`, prefixes, `sys.path`); the answer is
 * cached per name.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ResolvedProgram {
  /** The executable to run inside the sandbox (a real file, no shim). */
  executable: string;
  /** Host directories to show read-only at the same path. */
  roots: string[];
}

/** Directories every sandbox shows already (bubblewrap.ts). */
const BASE_ROOTS = ['/usr'];

const ASK_PYTHON = 'import json, sys; print(json.dumps({"executable": sys.executable, "prefix": sys.prefix, "base": sys.base_prefix, "path": sys.path}))';

function under(dir: string, roots: readonly string[]): boolean {
  return roots.some((root) => dir === root || dir.startsWith(`${root}/`));
}

function findOnPath(name: string): string | undefined {
  if (name.includes('/')) return fs.existsSync(name) ? path.resolve(name) : undefined;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

function realDirectory(p: string): string | undefined {
  try {
    const real = fs.realpathSync(p);
    return fs.statSync(real).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the shallowest of nested directories, and none already under the base roots. */
function minimalRoots(dirs: Iterable<string>): string[] {
  const sorted = [...new Set(dirs)].filter((d) => d !== '/' && !under(d, BASE_ROOTS)).sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const dir of sorted) if (!under(dir, kept)) kept.push(dir);
  return kept;
}

function askPython(executable: string): Promise<{ executable: string; prefix: string; base: string; path: string[] }> {
  return new Promise((resolve, reject) => {
    execFile(executable, ['-c', ASK_PYTHON], { timeout: 15_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' } }, (error, stdout) => {
      if (error) return reject(new Error(`${executable} could not be asked where it is installed (${error.message.split('\n')[0]})`));
      try {
        resolve(JSON.parse(stdout) as { executable: string; prefix: string; base: string; path: string[] });
      } catch {
        reject(new Error(`${executable} answered unreadably when asked where it is installed`));
      }
    });
  });
}

export class ProgramResolver {
  private readonly cache = new Map<string, Promise<ResolvedProgram>>();

  resolve(name: string): Promise<ResolvedProgram> {
    let found = this.cache.get(name);
    if (!found) {
      found = this.lookUp(name);
      // A failure is not remembered: the operator may install the program and retry.
      found.catch(() => this.cache.delete(name));
      this.cache.set(name, found);
    }
    return found;
  }

  private async lookUp(name: string): Promise<ResolvedProgram> {
    const onPath = findOnPath(name);
    if (!onPath) throw new Error(`the program ${name} is not installed (not found on PATH)`);
    if (/^python[0-9.]*$/.test(path.basename(name))) {
      const python = await askPython(onPath);
      const executable = fs.realpathSync(python.executable);
      // sys.path's '' is the current directory: not part of the installation.
      const dirs = [python.prefix, python.base, ...python.path, path.dirname(path.dirname(executable))]
        .filter((d) => path.isAbsolute(d))
        .map(realDirectory)
        .filter((d): d is string => d !== undefined);
      return { executable, roots: minimalRoots(dirs) };
    }
    const executable = fs.realpathSync(onPath);
    return { executable, roots: minimalRoots([path.dirname(path.dirname(executable))]) };
  }
}
