import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { HardenedDockerHost } from "../../components/hardenedDockerHost";
import { inventory, onHost, pulumiEnv } from "./support";

// The component from a user's own program (a few lines, as in the README), driven by the Automation API, reaching
// h2 the way many fleets are reached: through a bastion (h1; h2's port here exists only inside h1's network) as a
// sudo user whose key lives in an ssh-agent (OpenSSH's), so no key is handed to Pulumi at all.
const fleet = inventory();
const bastion = fleet.hosts.find((h) => h.name === fleet.bastion);
const target = fleet.hosts.find((h) => h.name === "h2");
if (!bastion || !target) throw new Error("the fleet has no bastion or no h2: run npm run fleet:up");

const work = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-connection-"));
const agentSocket = path.join(work, "agent.sock");
let agentPid = "";
let stack: Stack;
let daemonJsonBefore = "";

function program(jumpHostKey: string) {
    return async () => {
        const host = new HardenedDockerHost("h2", {
            connection: {
                host: "127.0.0.1",
                port: target!.bastionPort,
                user: "deploy",
                agentSocketPath: agentSocket,
                hostKey: target!.hostKey,
                proxy: {
                    host: bastion!.address,
                    port: bastion!.port,
                    user: "deploy",
                    agentSocketPath: agentSocket,
                    hostKey: jumpHostKey,
                },
            },
            daemonConfig: { "insecure-registries": [fleet.registry] },
        });
        return { idRange: host.idRange, authorization: host.authorizationActive };
    };
}

async function stackWith(jumpHostKey: string): Promise<Stack> {
    return LocalWorkspace.createOrSelectStack(
        { stackName: `connection-${process.pid}`, projectName: "hdh-connection", program: program(jumpHostKey) },
        { workDir: work, envVars: pulumiEnv() as Record<string, string> },
    );
}

beforeAll(async () => {
    const out = execFileSync("ssh-agent", ["-s", "-a", agentSocket], { encoding: "utf8" });
    agentPid = /SSH_AGENT_PID=(\d+)/.exec(out)?.[1] ?? "";
    execFileSync("ssh-add", ["-q", fleet.keyPath], {
        env: { ...process.env, SSH_AUTH_SOCK: agentSocket },
        stdio: "pipe",
    });
    daemonJsonBefore = onHost("h2", "cat /etc/docker/daemon.json 2>/dev/null || echo ABSENT");
});

afterAll(async () => {
    // After a failure mid-way, the host is given back too, so the next suites start from the fleet's state.
    await stack?.destroy().catch(() => undefined);
    await stack?.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
    if (agentPid) process.kill(Number(agentPid));
    fs.rmSync(work, { recursive: true, force: true });
});

describe("HardenedDockerHost through a jump host with an ssh-agent (Automation API)", () => {
    test("a wrong pinned key of the jump host is refused, naming connection.proxy.hostKey", async () => {
        stack = await stackWith(fleet.hosts.find((h) => h.name === "h3")!.hostKey);
        await expect(stack.preview()).rejects.toThrow(
            /host h2: connection\.proxy\.hostKey: the host presented a different host key than the pinned one\. Fix:/,
        );
        expect(onHost("h2", "cat /etc/docker/daemon.json 2>/dev/null || echo ABSENT")).toBe(daemonJsonBefore);
    });

    test("up hardens the host behind the bastion, a second up changes nothing, destroy restores it", async () => {
        stack = await stackWith(bastion.hostKey);
        const up = await stack.up();
        expect(up.outputs.authorization.value).toBe(true);
        const [user, start, count] = String(up.outputs.idRange.value).split(":");
        expect([user, count]).toEqual(["dockremap", "65536"]);
        // alice's range is not overlapped
        expect(Number(start) >= 231072 + 65536 || Number(start) + 65536 <= 231072).toBe(true);
        expect(JSON.parse(onHost("h2", "cat /etc/docker/daemon.json"))["userns-remap"]).toBe("dockremap");

        const again = await stack.up();
        expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);

        await stack.destroy();
        expect(onHost("h2", "cat /etc/docker/daemon.json 2>/dev/null || echo ABSENT")).toBe(daemonJsonBefore);
    });
});
