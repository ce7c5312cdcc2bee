import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { ROOT, inventory, onHost, pulumi, pulumiEnv, pulumiOk, removeStack } from "./support";

// The toolchain's smoke test: one dynamic resource that writes a file on a fleet host over ssh2, driven through
// the real CLI from a shell and through the Automation API.
const project = path.join(ROOT, "test/smoke/project");
const fleet = inventory();
const host = fleet.hosts[0];

function configFor(file: string, content: string): Record<string, string> {
    return {
        host: host.address,
        port: String(host.port),
        hostKey: host.hostKey,
        keyPath: fleet.keyPath,
        label: host.name,
        path: file,
        content,
    };
}

describe("toolchain smoke: pulumi CLI", () => {
    const stack = `smoke-cli-${process.pid}`;
    const file = `/etc/hdh-smoke-cli-${process.pid}.txt`;
    beforeAll(() => {
        removeStack(project, stack);
        pulumiOk(project, ["stack", "init", stack]);
        for (const [k, v] of Object.entries(configFor(file, "first")))
            pulumiOk(project, ["config", "set", "--stack", stack, k, v]);
    });
    afterAll(() => removeStack(project, stack));

    test("preview --diff, up, no-op up, refresh shows drift, up repairs, destroy cleans up", () => {
        const preview = pulumiOk(project, ["preview", "--diff", "--stack", stack]);
        expect(preview).toMatch(/\+ pulumi-nodejs:dynamic\/hardened-docker-host:RemoteFiles: \(create\)/);
        expect(preview).toContain(path.basename(file));

        pulumiOk(project, ["up", "--yes", "--stack", stack]);
        expect(onHost(host.name, `cat ${file}`)).toBe("first");

        const second = pulumiOk(project, ["up", "--yes", "--stack", stack]);
        expect(second).toMatch(/2 unchanged/);
        expect(second).not.toMatch(/updated|created/);

        onHost(host.name, `echo edited-by-hand > ${file}`);
        const refresh = pulumiOk(project, ["refresh", "--yes", "--diff", "--stack", stack]);
        expect(refresh).toMatch(/~ files\s*:[\s\S]*first[\s\S]*edited-by-hand/);

        pulumiOk(project, ["up", "--yes", "--stack", stack]);
        expect(onHost(host.name, `cat ${file}`)).toBe("first");

        pulumiOk(project, ["destroy", "--yes", "--stack", stack]);
        expect(onHost(host.name, `[ -e ${file} ] && echo present || echo gone`).trim()).toBe("gone");
    });

    test("the private key never reaches the state in clear text", () => {
        const key = fs.readFileSync(fleet.keyPath, "utf8").split("\n")[1];
        pulumiOk(project, ["up", "--yes", "--stack", stack]);
        const exported = pulumiOk(project, ["stack", "export", "--stack", stack]);
        expect(exported).toContain(path.basename(file));
        expect(exported).not.toContain(key);
        pulumiOk(project, ["destroy", "--yes", "--stack", stack]);
    });

    test("a wrong pinned host key is refused with the host, the field and the fix", () => {
        const other = fleet.hosts[1].hostKey;
        pulumiOk(project, ["config", "set", "--stack", stack, "hostKey", other]);
        const r = pulumi(project, ["up", "--yes", "--stack", stack]);
        pulumiOk(project, ["config", "set", "--stack", stack, "hostKey", host.hostKey]);
        expect(r.code).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(
            /host h1: connection.hostKey: the host presented a different host key.*Fix:/,
        );
    });
});

describe("toolchain smoke: Automation API", () => {
    test("preview, up, no-op, refresh drift, destroy with the same program", async () => {
        const stackName = `smoke-auto-${process.pid}`;
        const file = `/etc/hdh-smoke-auto-${process.pid}.txt`;
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require(path.join(project, "index.ts")).default as () => Promise<Record<string, unknown>>;
        const ws = await LocalWorkspace.create({ workDir: project, envVars: pulumiEnv() as Record<string, string> });
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName, projectName: "hdh-smoke", program },
            { workDir: project, envVars: ws.envVars },
        );
        try {
            for (const [k, v] of Object.entries(configFor(file, "auto"))) await stack.setConfig(k, { value: v });
            const preview = await stack.preview();
            expect(preview.changeSummary.create).toBe(2);
            const up = await stack.up();
            expect(up.summary.resourceChanges?.create).toBe(2);
            expect(onHost(host.name, `cat ${file}`)).toBe("auto");
            const again = await stack.up();
            expect(again.summary.resourceChanges).toEqual({ same: 2 });
            onHost(host.name, `echo drifted > ${file}`);
            const refresh = await stack.refresh();
            expect(refresh.summary.resourceChanges?.update).toBe(1);
            await stack.destroy();
            expect(onHost(host.name, `[ -e ${file} ] && echo present || echo gone`).trim()).toBe("gone");
        } finally {
            await stack.workspace.removeStack(stackName, { force: true }).catch(() => undefined);
        }
    });
});
