// The task's logic, without the task library.

import * as assert from 'assert';
import * as path from 'path';
import * as fs from 'fs';
import { describe, it } from 'node:test';

import { Inputs, binaryPath, buildArgs, bundled, childEnv, exitMessage, splitArgs } from '../src/sloguard';

const blank: Inputs = {
    command: 'check', config: '', slo: '', duration: '', interval: '', environment: '', deploymentId: '',
    dryRun: 'false', overrideReason: '', reason: '', args: '',
};

describe('buildArgs', () => {
    const cases: [string, Partial<Inputs>, string[]][] = [
        ['blank inputs keep the CLI defaults', {}, ['check']],
        ['the config becomes --config', { config: 'sloguard.yaml' }, ['check', '--config', 'sloguard.yaml']],
        ['slo takes a comma- or newline-separated list', { slo: 'a, b\n\nc\r\n' }, ['check', '--slo', 'a', '--slo', 'b', '--slo', 'c']],
        ['overrideReason becomes --override', { overrideReason: 'hotfix for INC-42' }, ['check', '--override', 'hotfix for INC-42']],
        ['watch takes duration, interval, environment, deploymentId and dryRun',
            { command: 'watch', duration: '10m', interval: '30s', environment: 'production', deploymentId: '42', dryRun: 'true' },
            ['watch', '--duration', '10m', '--interval', '30s', '--environment', 'production', '--deployment-id', '42', '--no-rollback']],
        ['rollback takes its reason', { command: 'rollback', reason: 'p99 doubled' }, ['rollback', '--reason', 'p99 doubled']],
        ['args come last, split as a shell would', { command: 'validate', args: `--online --prometheus-url 'http://prom:9090'` },
            ['validate', '--online', '--prometheus-url', 'http://prom:9090']],
    ];
    for (const [name, inputs, want] of cases) {
        it(name, () => assert.deepStrictEqual(buildArgs({ ...blank, ...inputs }), want));
    }

    const bad: [string, Partial<Inputs>, string][] = [
        ['an unknown command', { command: 'deploy' }, 'input command: "deploy" is not a sloguard command: use check, watch, rollback or validate'],
        ['an input that does not apply', { command: 'rollback', slo: 'a' }, 'input slo applies to check and watch, not to rollback: remove it'],
        ['dryRun that is no boolean', { command: 'watch', dryRun: 'yes' }, 'input dryRun: want true or false, got "yes"'],
        ['args with an open quote', { args: '--override "x' }, 'input args: unterminated " quote in "--override \\"x"'],
    ];
    for (const [name, inputs, want] of bad) {
        it(`refuses ${name}`, () => assert.throws(() => buildArgs({ ...blank, ...inputs }), { message: want }));
    }
});

describe('splitArgs', () => {
    const cases: [string, string, string[]][] = [
        ['blanks separate words', '  a\tb\n c ', ['a', 'b', 'c']],
        ['double quotes keep blanks', '--reason "p99 doubled"', ['--reason', 'p99 doubled']],
        ['single quotes keep everything', `'a "b" \\c $d'`, ['a "b" \\c $d']],
        ['a backslash keeps the next character', `a\\ b \\'c\\'`, ['a b', "'c'"]],
        ['double quotes unescape only \\" \\\\ \\$ and \\`', '"\\"x\\" \\\\ \\$y \\n"', ['"x" \\ $y \\n']],
        ['an empty quoted word is a word', "--override ''", ['--override', '']],
        ['nothing is no words', ' \n ', []],
    ];
    for (const [name, s, want] of cases) {
        it(name, () => assert.deepStrictEqual(splitArgs(s), want));
    }
    it('refuses a trailing backslash', () => assert.throws(() => splitArgs('a\\'), { message: '"a\\\\" ends with a backslash' }));
});

describe('binaryPath', () => {
    const all = () => true;
    it('picks the bundled binary for each supported agent', () => {
        assert.strictEqual(binaryPath('/t/bin', 'linux', 'x64', '', all), path.join('/t/bin', 'linux-x64', 'sloguard'));
        assert.strictEqual(binaryPath('/t/bin', 'linux', 'arm64', '', all), path.join('/t/bin', 'linux-arm64', 'sloguard'));
        assert.strictEqual(binaryPath('/t/bin', 'win32', 'x64', '', all), path.join('/t/bin', 'windows-x64', 'sloguard.exe'));
        assert.strictEqual(binaryPath('/t/bin', 'darwin', 'arm64', '', all), path.join('/t/bin', 'darwin-arm64', 'sloguard'));
    });
    it('matches the directories make azure-task-binaries fills', () => {
        const makefile = fs.readFileSync(path.join(__dirname, '..', '..', '..', '..', 'Makefile'), 'utf8');
        for (const dir of Object.values(bundled)) {
            assert.ok(makefile.includes(`$(TASK_DIR)/bin/${dir}/sloguard`), `the Makefile builds no bin/${dir}`);
        }
    });
    it('prefers sloguardPath', () => assert.strictEqual(binaryPath('/t/bin', 'linux', 'x64', '/opt/sloguard', all), '/opt/sloguard'));
    it('says what to do on an agent it has no binary for', () => {
        assert.throws(() => binaryPath('/t/bin', 'darwin', 'x64', '', all), {
            message: 'this task bundles sloguard for linux/x64, linux/arm64, win32/x64, darwin/arm64, not for darwin/x64: install sloguard on the agent and set sloguardPath',
        });
    });
    it('says when the package lacks its binaries', () => {
        assert.throws(() => binaryPath('/t/bin', 'linux', 'x64', '', () => false), /make azure-task-binaries/);
    });
});

describe('childEnv', () => {
    it('adds the token as GITHUB_TOKEN, and nothing else', () => {
        assert.deepStrictEqual(childEnv({ PATH: '/bin', TF_BUILD: 'True', UNSET: undefined }, 'tok'), { PATH: '/bin', TF_BUILD: 'True', GITHUB_TOKEN: 'tok' });
    });
    it('drops what the task library hides, blank leftovers too', () => {
        assert.deepStrictEqual(childEnv({ INPUT_INTERVAL: '', SECRET_X: '', ENDPOINT_AUTH_Y: '', HOME: '/h' }, ''), { HOME: '/h' });
    });
    it('leaves GITHUB_TOKEN alone without a token input', () => {
        assert.deepStrictEqual(childEnv({ GITHUB_TOKEN: 'from-env' }, ''), { GITHUB_TOKEN: 'from-env' });
    });
});

describe('exitMessage', () => {
    it('says nothing on success', () => assert.strictEqual(exitMessage('check', 0), undefined));
    it('names an unknown code', () => assert.strictEqual(exitMessage('check', 137), 'sloguard exited with 137'));
});
