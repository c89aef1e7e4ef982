// The task's logic, without the task library.

import * as assert from 'assert';
import * as path from 'path';
import * as fs from 'fs';
import * as os from 'os';
import { describe, it } from 'node:test';

import { ArmConnection, metricsEnv, requestOidcToken, workloadIdentityEnv } from '../src/connections';
import { Inputs, binaryPath, buildArgs, bundled, childEnv, exitMessage, splitArgs } from '../src/sloguard';

const blank: Inputs = {
    command: 'check', config: '', slo: '', duration: '', interval: '', environment: '', environmentUrl: '', deploymentId: '',
    dryRun: 'false', overrideReason: '', reason: '', args: '',
};

describe('buildArgs', () => {
    const cases: [string, Partial<Inputs>, string[]][] = [
        ['blank inputs keep the CLI defaults', {}, ['check']],
        ['the config becomes --config', { config: 'sloguard.yaml' }, ['check', '--config', 'sloguard.yaml']],
        ['slo takes a comma- or newline-separated list', { slo: 'a, b\n\nc\r\n' }, ['check', '--slo', 'a', '--slo', 'b', '--slo', 'c']],
        ['overrideReason becomes --override', { overrideReason: 'hotfix for INC-42' }, ['check', '--override', 'hotfix for INC-42']],
        ['watch takes duration, interval, environment, its URL, deploymentId and dryRun',
            { command: 'watch', duration: '10m', interval: '30s', environment: 'production', environmentUrl: 'https://shop.example', deploymentId: '42', dryRun: 'true' },
            ['watch', '--duration', '10m', '--interval', '30s', '--environment', 'production', '--environment-url', 'https://shop.example', '--deployment-id', '42', '--no-rollback']],
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
        assert.strictEqual(binaryPath('/t/bin', 'darwin', 'x64', '', all), path.join('/t/bin', 'darwin-x64', 'sloguard'));
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
        assert.throws(() => binaryPath('/t/bin', 'win32', 'arm64', '', all), {
            message: 'this task bundles sloguard for linux/x64, linux/arm64, win32/x64, darwin/x64, darwin/arm64, not for win32/arm64: install sloguard on the agent and set sloguardPath',
        });
    });
    it('says when the package lacks its binaries', () => {
        assert.throws(() => binaryPath('/t/bin', 'linux', 'x64', '', () => false), /make azure-task-binaries/);
    });
});

describe('childEnv', () => {
    it('adds what the task hands over, and nothing else', () => {
        assert.deepStrictEqual(childEnv({ PATH: '/bin', TF_BUILD: 'True', UNSET: undefined }, { GITHUB_TOKEN: 'tok' }), { PATH: '/bin', TF_BUILD: 'True', GITHUB_TOKEN: 'tok' });
    });
    it('drops what the task library hides, blank leftovers too', () => {
        assert.deepStrictEqual(childEnv({ INPUT_INTERVAL: '', SECRET_X: '', ENDPOINT_AUTH_Y: '', HOME: '/h' }, {}), { HOME: '/h' });
    });
    it('leaves GITHUB_TOKEN alone without a token', () => {
        assert.deepStrictEqual(childEnv({ GITHUB_TOKEN: 'from-env' }, { GITHUB_TOKEN: '' }), { GITHUB_TOKEN: 'from-env' });
    });
});

describe('metricsEnv', () => {
    it('gives the URL as --prometheus-url and the password as the bearer token', () => {
        assert.deepStrictEqual(metricsEnv({ url: ' https://prom.example/ ', username: 'ignored', password: 'tok' }),
            { SLOGUARD_PROMETHEUS_URL: 'https://prom.example/', SLOGUARD_PROMETHEUS_TOKEN: 'tok' });
    });
    it('sends no token when the connection has none', () => {
        assert.deepStrictEqual(metricsEnv({ url: 'https://prom.example', username: '', password: '' }), { SLOGUARD_PROMETHEUS_URL: 'https://prom.example' });
    });
    it('refuses a connection without a URL', () => {
        assert.throws(() => metricsEnv({ url: '', username: '', password: 'x' }), { message: 'input metricsConnection: the service connection has no server URL' });
    });
});

describe('requestOidcToken', () => {
    const arm: ArmConnection = { id: 'conn-1', scheme: 'WorkloadIdentityFederation', tenantId: 't', clientId: 'c', authorityHost: '' };
    const req = { requestUri: 'https://dev.azure.com/org/proj/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken', accessToken: 'job-token' };
    it('posts as Azure documents and reads oidcToken', async () => {
        let seen: { url: string; init: { method: string; headers: Record<string, string>; body: string } } | undefined;
        const token = await requestOidcToken(arm, req, async (url, init) => {
            seen = { url, init };
            return { ok: true, status: 200, text: async () => '{"oidcToken": "eyJ.jwt"}' };
        });
        assert.strictEqual(token, 'eyJ.jwt');
        assert.strictEqual(seen?.url, req.requestUri + '?api-version=7.1&serviceConnectionId=conn-1');
        assert.deepStrictEqual(seen?.init, { method: 'POST', headers: { Authorization: 'Bearer job-token', 'Content-Type': 'application/json' }, body: '' });
    });
    it('refuses a connection with a secret instead of federation', async () => {
        await assert.rejects(requestOidcToken({ ...arm, scheme: 'ServicePrincipal' }, req, async () => { throw new Error('no call'); }),
            /uses ServicePrincipal authentication: sloguard takes an Azure Resource Manager connection with workload identity federation/);
    });
    it('says what Azure DevOps answered on a refusal', async () => {
        await assert.rejects(requestOidcToken(arm, req, async () => ({ ok: false, status: 403, text: async () => '{"message":"not authorized"}' })),
            { message: 'input azureSubscription: Azure DevOps refused an OIDC token for the service connection (HTTP 403): {"message":"not authorized"}' });
    });
});

describe('workloadIdentityEnv', () => {
    it('writes the token where only this user reads it, and names it as azidentity reads it', () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sloguard-wi-'));
        const { env, file } = workloadIdentityEnv({ id: 'c', scheme: 'WorkloadIdentityFederation', tenantId: 'tenant', clientId: 'client', authorityHost: '' }, 'eyJ.jwt', dir);
        assert.deepStrictEqual(env, { AZURE_FEDERATED_TOKEN_FILE: file, AZURE_CLIENT_ID: 'client', AZURE_TENANT_ID: 'tenant' });
        assert.strictEqual(fs.readFileSync(file, 'utf8'), 'eyJ.jwt');
        if (process.platform !== 'win32') {
            assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
        }
    });
});

describe('exitMessage', () => {
    it('says nothing on success', () => assert.strictEqual(exitMessage('check', 0), undefined));
    it('names an unknown code', () => assert.strictEqual(exitMessage('check', 137), 'sloguard exited with 137'));
});
