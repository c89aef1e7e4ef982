// The task end to end under MockTestRunner, offline: Node is the running
// one (nodePath), the binary a fake (tests/fixtures/fake-sloguard.ts).

import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as cp from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { describe, it } from 'node:test';
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';

const fixtures = path.join(__dirname, 'fixtures');
const fake = path.join(fixtures, 'fake-sloguard.js');
const taskJson = path.join(__dirname, '..', '..', 'task.json');
fs.chmodSync(fake, 0o755);

interface Seen {
    argv: string[]; cwd: string; githubTokenSha256: string; hidden: string[]; promToken: string; tfBuild: string;
    prometheusURL: string; prometheusTokenSha256: string; azureClientId: string; azureTenantId: string;
    federatedTokenFile: string; federatedTokenSha256: string;
}

interface Run {
    tr: MockTestRunner;
    seen: Seen | undefined;
}

// endpoint is a service connection as the agent hands it to a task: its
// URL, scheme and parameters in ENDPOINT_* variables, which the task
// library moves into its vault when it loads.
function endpoint(id: string, url: string, scheme: string, params: Record<string, string>, data: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {
        [`ENDPOINT_URL_${id}`]: url,
        [`ENDPOINT_AUTH_${id}`]: JSON.stringify({ parameters: params, scheme }),
        [`ENDPOINT_AUTH_SCHEME_${id}`]: scheme,
    };
    for (const [k, v] of Object.entries(params)) {
        env[`ENDPOINT_AUTH_PARAMETER_${id}_${k.toUpperCase()}`] = v;
    }
    for (const [k, v] of Object.entries(data)) {
        env[`ENDPOINT_DATA_${id}_${k.toUpperCase()}`] = v;
    }
    return env;
}

// secretLines are the output lines that carry a secret. The task registers
// each with task.setsecret before the binary runs; the task library's debug
// lines print input and connection values too, which the agent masks (it
// registers secret variables and connection secrets itself).
function secretLines(tr: MockTestRunner, secret: string): string[] {
    return (tr.stdout + tr.stderr).split('\n').filter((l) => l.includes(secret) && !l.startsWith('##vso[task.debug]'));
}

async function runTask(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<Run> {
    const saved = { ...process.env };
    process.env['FIXTURE_INPUTS'] = JSON.stringify({ sloguardPath: fake, ...inputs });
    process.env['TF_BUILD'] = 'True';
    process.env['AGENT_TEMPDIRECTORY'] = os.tmpdir();
    Object.assign(process.env, env);
    try {
        const tr = new MockTestRunner(path.join(fixtures, 'run.js'), taskJson);
        tr.nodePath = process.execPath; // never download a Node
        await tr.runAsync();
        const line = tr.stdout.split('\n').find((l) => l.startsWith('FAKE '));
        return { tr, seen: line ? JSON.parse(line.slice(5)) : undefined };
    } finally {
        process.env = saved;
    }
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

function completeLine(tr: MockTestRunner): string {
    return tr.stdout.split('\n').filter((l) => l.startsWith('##vso[task.complete')).pop() ?? '';
}

describe('SloGuard@1', () => {
    it('passes the inputs as flags, and the token explicitly, to a binary that sees no INPUT_* or secrets', async () => {
        const wd = fs.mkdtempSync(path.join(os.tmpdir(), 'sloguard-task-'));
        const token = 'ghs_plantedT0ken5ecret';
        const { tr, seen } = await runTask(
            {
                command: 'watch', config: 'deploy/sloguard.yaml', slo: 'checkout-availability, checkout-latency\nsearch',
                duration: '10m', interval: '', dryRun: 'true', githubToken: token, args: '--log-level debug --since "2026-11-23T17:00:00Z"',
                workingDirectory: wd,
            },
            { PROM_TOKEN: 'mapped-with-env' },
        );
        assert.ok(tr.succeeded, tr.stdout + tr.stderr);
        assert.ok(seen, 'the binary did not run:\n' + tr.stdout);
        assert.deepStrictEqual(seen.argv, [
            'watch', '--config', 'deploy/sloguard.yaml', '--slo', 'checkout-availability', '--slo', 'checkout-latency', '--slo', 'search',
            '--duration', '10m', '--no-rollback', '--log-level', 'debug', '--since', '2026-11-23T17:00:00Z',
        ]);
        assert.strictEqual(fs.realpathSync(seen.cwd), fs.realpathSync(wd));
        assert.strictEqual(seen.githubTokenSha256, sha256(token));
        assert.deepStrictEqual(seen.hidden, []);
        assert.strictEqual(seen.promToken, sha256('mapped-with-env'), 'a secret mapped with env: reaches the binary');
        assert.strictEqual(seen.tfBuild, 'True');
        assert.strictEqual(tr.invokedToolCount, 1);
        assert.ok(tr.stdout.includes('##vso[task.setvariable variable=decision;isoutput=true]pass'));
        // The token is registered as a secret before the binary runs, and
        // shows nowhere else.
        assert.deepStrictEqual(secretLines(tr, token), ['##vso[task.setsecret]' + token]);
        assert.ok(tr.stdout.indexOf('##vso[task.setsecret]') < tr.stdout.indexOf('FAKE '));
    });

    it('leaves blank inputs out, so that the CLI defaults hold', async () => {
        const { tr, seen } = await runTask({ command: 'check', config: '', slo: '', overrideReason: '', dryRun: 'false', args: '' });
        assert.ok(tr.succeeded, tr.stdout);
        assert.deepStrictEqual(seen?.argv, ['check']);
        assert.strictEqual(seen?.githubTokenSha256, '');
    });

    const failures: [string, string, string, string][] = [
        ['a closed gate', 'check', '1', 'sloguard: the gate is closed (exit 1): see the summary'],
        ['a breached canary', 'watch', '1', 'sloguard: the canary breached its SLOs (exit 1): see the summary'],
        ['a config error', 'check', '2', 'sloguard: usage or config error, nothing was evaluated (exit 2): see the log'],
        ['an inconclusive run', 'watch', '3', 'sloguard: inconclusive: no data, too little traffic, or the backend unreachable (exit 3)'],
        ['a failed rollback action', 'rollback', '4', 'sloguard: a rollback action failed (exit 4): a human must act now'],
    ];
    for (const [what, command, code, message] of failures) {
        it(`fails the task on ${what}`, async () => {
            const inputs: Record<string, string> = { command };
            if (command === 'rollback') {
                inputs['reason'] = 'p99 doubled';
            }
            const { tr, seen } = await runTask(inputs, { FAKE_EXIT: code, FAKE_DECISION: 'fail' });
            assert.ok(seen, tr.stdout);
            assert.ok(tr.failed);
            assert.strictEqual(completeLine(tr), `##vso[task.complete result=Failed;]${message}`);
        });
    }

    it('refuses inputs that do not apply, before running anything', async () => {
        const { tr, seen } = await runTask({ command: 'check', duration: '10m', dryRun: 'true' });
        assert.ok(tr.failed);
        assert.strictEqual(seen, undefined);
        assert.strictEqual(tr.invokedToolCount, 0);
        assert.strictEqual(
            completeLine(tr),
            '##vso[task.complete result=Failed;]input duration applies to watch, not to check: remove it%0Ainput dryRun applies to watch and rollback, not to check: remove it',
        );
    });

    it('reads its inputs through the task library\'s public API', () => {
        for (const f of ['index.ts', 'sloguard.ts', 'connections.ts']) {
            const src = fs.readFileSync(path.join(__dirname, '..', '..', 'src', f), 'utf8');
            assert.ok(!src.includes('_vault') && !src.includes('task-lib/internal'), `src/${f} reaches into the task library's internals`);
        }
    });

    it('hands the generic connection over as the Prometheus URL and bearer token', async () => {
        const { tr, seen } = await runTask({ command: 'check', metricsConnection: 'prom' },
            endpoint('prom', 'https://prom.example/', 'UsernamePassword', { username: '', password: 'prom-T0ken' }));
        assert.ok(tr.succeeded, tr.stdout + tr.stderr);
        assert.strictEqual(seen?.prometheusURL, 'https://prom.example/');
        assert.strictEqual(seen?.prometheusTokenSha256, sha256('prom-T0ken'));
        assert.deepStrictEqual(seen?.hidden, []);
        assert.deepStrictEqual(secretLines(tr, 'prom-T0ken'), ['##vso[task.setsecret]prom-T0ken']);
    });

    it('takes the GitHub token from the GitHub connection, ahead of githubToken', async () => {
        const { tr, seen } = await runTask({ command: 'watch', githubConnection: 'gh', githubToken: 'ghp_ignored' },
            endpoint('gh', 'https://github.com', 'PersonalAccessToken', { accessToken: 'ghp_fromConnection' }));
        assert.ok(tr.succeeded, tr.stdout + tr.stderr);
        assert.strictEqual(seen?.githubTokenSha256, sha256('ghp_fromConnection'));
        assert.deepStrictEqual(secretLines(tr, 'ghp_fromConnection'), ['##vso[task.setsecret]ghp_fromConnection']);
    });

    it('obtains an OIDC token for the Azure connection and hands it over as a federated token file', async () => {
        // The endpoint runs in a process of its own: MockTestRunner blocks
        // this one while the task runs.
        const record = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sloguard-oidc-')), 'requests.jsonl');
        fs.writeFileSync(record, '');
        const server = cp.spawn(process.execPath, [path.join(fixtures, 'oidc-server.js'), record], { stdio: ['ignore', 'pipe', 'inherit'] });
        try {
            const port = await new Promise<string>((resolve, reject) => {
                server.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
                server.once('exit', () => reject(new Error('the OIDC endpoint did not start')));
            });
            const { tr, seen } = await runTask({ command: 'check', azureSubscription: 'arm' }, {
                ...endpoint('arm', 'https://management.azure.com/', 'WorkloadIdentityFederation',
                    { tenantid: 'tenant-guid', serviceprincipalid: 'client-guid', workloadIdentityFederationSubject: 'sc://org/proj/arm' },
                    { environment: 'AzureCloud' }),
                ...endpoint('SystemVssConnection', 'https://dev.azure.com/org/', 'OAuth', { AccessToken: 'job-access-token' }),
                SYSTEM_OIDCREQUESTURI: `http://127.0.0.1:${port}/org/proj/_apis/distributedtask/hubs/build/plans/plan/jobs/job/oidctoken`,
            });
            assert.ok(tr.succeeded, tr.stdout + tr.stderr);
            const calls = fs.readFileSync(record, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
            assert.deepStrictEqual(calls, [{
                method: 'POST', url: '/org/proj/_apis/distributedtask/hubs/build/plans/plan/jobs/job/oidctoken?api-version=7.1&serviceConnectionId=arm',
                auth: 'Bearer job-access-token', contentType: 'application/json',
            }]);
            assert.strictEqual(seen?.azureClientId, 'client-guid');
            assert.strictEqual(seen?.azureTenantId, 'tenant-guid');
            assert.strictEqual(seen?.federatedTokenSha256, sha256('eyJhbGciOiJSUzI1NiJ9.federated.sig'));
            assert.ok(seen && !fs.existsSync(seen.federatedTokenFile), 'the token file outlives the task');
            assert.deepStrictEqual(secretLines(tr, 'eyJhbGciOiJSUzI1NiJ9.federated.sig'), ['##vso[task.setsecret]eyJhbGciOiJSUzI1NiJ9.federated.sig']);
        } finally {
            server.kill();
        }
    });

    it('refuses an Azure connection with a stored secret, before running anything', async () => {
        const { tr, seen } = await runTask({ command: 'check', azureSubscription: 'arm' },
            endpoint('arm', 'https://management.azure.com/', 'ServicePrincipal', { tenantid: 't', serviceprincipalid: 'c', serviceprincipalkey: 'k' }));
        assert.ok(tr.failed);
        assert.strictEqual(seen, undefined);
        assert.strictEqual(completeLine(tr), '##vso[task.complete result=Failed;]input azureSubscription: the service connection uses ServicePrincipal authentication: sloguard takes an Azure Resource Manager connection with workload identity federation (no secret to store or rotate)');
    });

    it('says which binary is missing', async () => {
        const { tr } = await runTask({ command: 'check', sloguardPath: '/nonexistent/sloguard' });
        assert.ok(tr.failed);
        assert.strictEqual(completeLine(tr), '##vso[task.complete result=Failed;]input sloguardPath: /nonexistent/sloguard does not exist');
    });
});
