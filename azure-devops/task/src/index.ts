// SloGuard@1: runs the sloguard binary bundled for the agent with the
// task's inputs as flags. The binary speaks the agent's logging commands
// itself (TF_BUILD=True): output variables, issues, the summary, the result.
// Inputs and service connections are read through the task library's
// public API; the agent masks service connection secrets and secret
// variables in every line, the library's debug lines included.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tl from 'azure-pipelines-task-lib/task';

import { ArmConnection, metricsEnv, requestOidcToken, workloadIdentityEnv } from './connections';
import { Inputs, binaryPath, buildArgs, childEnv, exitMessage } from './sloguard';

function input(name: string): string {
    return tl.getInput(name, false) ?? '';
}

function param(connection: string, key: string): string {
    return tl.getEndpointAuthorizationParameter(connection, key, true) ?? '';
}

// githubToken is the token of the GitHub service connection, else of the
// githubToken input (a secret variable).
function githubToken(): string {
    const conn = input('githubConnection');
    if (conn === '') {
        return input('githubToken').trim();
    }
    const token = param(conn, 'AccessToken') || param(conn, 'IdToken');
    if (token === '') {
        throw new Error(`input githubConnection: the service connection ${conn} holds no token (use a personal access token, OAuth or GitHub App connection)`);
    }
    return token;
}

// azureEnv obtains an OIDC token for the Azure Resource Manager connection
// and hands it over as azidentity's workload identity credential reads it.
async function azureEnv(conn: string): Promise<{ env: Record<string, string>; file: string }> {
    const arm: ArmConnection = {
        id: conn,
        scheme: tl.getEndpointAuthorizationScheme(conn, true) ?? '',
        tenantId: param(conn, 'tenantid'),
        clientId: param(conn, 'serviceprincipalid'),
        authorityHost: '',
    };
    const cloud = tl.getEndpointDataParameter(conn, 'environment', true) ?? '';
    if (cloud !== '' && cloud.toLowerCase() !== 'azurecloud') {
        arm.authorityHost = tl.getEndpointDataParameter(conn, 'environmentAuthorityUrl', true) ?? '';
    }
    const token = await requestOidcToken(arm, {
        requestUri: tl.getVariable('System.OidcRequestUri') ?? '',
        accessToken: param('SystemVssConnection', 'AccessToken'),
    }, fetch);
    tl.setSecret(token);
    return workloadIdentityEnv(arm, token, tl.getVariable('Agent.TempDirectory') || os.tmpdir());
}

async function run(): Promise<void> {
    let tokenFile = '';
    try {
        const inputs: Inputs = {
            command: input('command') || 'check',
            config: input('config'),
            slo: input('slo'),
            duration: input('duration'),
            interval: input('interval'),
            environment: input('environment'),
            environmentUrl: input('environmentUrl'),
            deploymentId: input('deploymentId'),
            dryRun: input('dryRun'),
            overrideReason: input('overrideReason'),
            reason: input('reason'),
            args: input('args'),
        };
        const args = buildArgs(inputs);
        // The task library hides inputs and secrets from child processes:
        // what the binary needs goes to it explicitly, masked first.
        const extra: Record<string, string> = {};
        const token = githubToken();
        if (token !== '') {
            tl.setSecret(token);
            extra['GITHUB_TOKEN'] = token;
        }
        const metrics = input('metricsConnection');
        if (metrics !== '') {
            const env = metricsEnv({ url: tl.getEndpointUrl(metrics, true) ?? '', username: param(metrics, 'username'), password: param(metrics, 'password') });
            if (env['SLOGUARD_PROMETHEUS_TOKEN']) {
                tl.setSecret(env['SLOGUARD_PROMETHEUS_TOKEN']);
            }
            Object.assign(extra, env);
        }
        const azure = input('azureSubscription');
        if (azure !== '') {
            const wi = await azureEnv(azure);
            tokenFile = wi.file;
            Object.assign(extra, wi.env);
        }
        const bin = binaryPath(path.join(__dirname, '..', '..', 'bin'), process.platform, process.arch, input('sloguardPath'));
        if (process.platform !== 'win32') {
            try {
                fs.chmodSync(bin, 0o755); // a .vsix does not keep the executable bit
            } catch {
                // not ours to change: exec says what is wrong
            }
        }
        const cwd = input('workingDirectory') || tl.getVariable('System.DefaultWorkingDirectory') || process.cwd();
        const code = await tl.execAsync(bin, args, { cwd, env: childEnv(process.env, extra), ignoreReturnCode: true });
        const msg = exitMessage(inputs.command, code);
        if (msg !== undefined) {
            tl.setResult(tl.TaskResult.Failed, msg);
        }
    } catch (err) {
        tl.setResult(tl.TaskResult.Failed, (err as Error).message);
    } finally {
        if (tokenFile !== '') {
            fs.rmSync(tokenFile, { force: true });
        }
    }
}

void run();
