import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    authorizationChain,
    chainSwap,
    chainWithFirst,
    chainWithout,
    samePlugin,
    withAuthorizationChain,
} from "../../components/plan/authorizationChain";
import { promotionLockModule } from "../../components/plan/authorization";
import {
    checkAlias,
    checkImage,
    checkPinnedReference,
    PluginChangeRequest,
    PluginStep,
    managedAliases,
    maintenanceModule,
    normalizeReference,
    planPluginChange,
    planPluginRemoval,
    swapAlias,
} from "../../components/plan/pluginChange";

const A = "hdh-authz";
const T = "hdh-authz-swap";
const REF1 = "localhost:5000/hdh/opa-authz:0.1.0";
const REF2 = "localhost:5000/hdh/opa-authz:0.2.0";
const req = (r: Partial<PluginChangeRequest>): PluginChangeRequest => ({
    alias: A,
    reference: REF2,
    settingsKey: "s",
    installed: { reference: REF1, enabled: true },
    recordedSettings: "s",
    chain: [A],
    ...r,
});
const kinds = (steps: PluginStep[]) =>
    steps.map((s) => (s.kind === "switch" ? `switch ${s.from}->${s.to || "-"}` : `${s.kind} ${s.alias}`));
const SWAP = [`ensure ${T}`, `switch ${A}->${T}`, `ensure ${A}`, `switch ${T}->${A}`, `remove ${T}`];

/**
 * Replays a plan on a model of the host and says whether some moment leaves the request path without one of our
 * plugins, and whether a plugin in the request path was disabled (Docker drops it from the path at once).
 */
function replay(r: PluginChangeRequest, steps: PluginStep[]): { window: boolean; chain: string[] } {
    let chain = [...r.chain];
    let window = false;
    const enforcing = () => chain.length > 0;
    for (const s of steps) {
        if (s.kind === "switch") chain = s.chain;
        if ((s.kind === "ensure" || s.kind === "remove") && chain.some((p) => samePlugin(p, s.alias))) window = true;
        if (r.chain.length > 0 && !enforcing()) window = true;
    }
    return { window, chain };
}

describe("the authorization chain", () => {
    test("x and x:latest are one plugin; the chain is read, written and edited without touching other plugins", () => {
        expect(samePlugin("hdh-authz", "hdh-authz:latest")).toBe(true);
        expect(samePlugin("hdh-authz", "hdh-authz2")).toBe(false);
        expect(authorizationChain({ "authorization-plugins": ["a", 3, "b"] } as never)).toEqual(["a", "b"]);
        expect(withAuthorizationChain({ icc: false, "authorization-plugins": ["a"] }, [])).toEqual({ icc: false });
        expect(chainWithFirst(["ops", "hdh-authz:latest"], "hdh-authz")).toEqual(["hdh-authz", "ops"]);
        expect(chainWithout(["ops", "hdh-authz"], "hdh-authz:latest")).toEqual(["ops"]);
        expect(chainSwap(["ops", A, "x"], A, T)).toEqual(["ops", T, "x"]);
        expect(chainSwap(["ops"], "hdh-authz", "new")).toEqual(["new", "ops"]);
    });
});

describe("planPluginChange: never a moment without an enforcing plugin", () => {
    test("an upgrade under enforcement goes through the swap alias, and the chain ends as it began", () => {
        const r = req({});
        const plan = planPluginChange(r);
        expect(kinds(plan.steps)).toEqual(SWAP);
        expect(plan.maintenance).toBe(true);
        expect(replay(r, plan.steps)).toEqual({ window: false, chain: [A] });
    });

    test("a settings change under enforcement is a swap too; an operator's plugin keeps its place", () => {
        const r = req({ reference: REF1, recordedSettings: "old", chain: ["ops", A] });
        const plan = planPluginChange(r);
        expect(kinds(plan.steps)).toEqual(SWAP);
        expect(plan.steps[1]).toMatchObject({ chain: ["ops", T], back: ["ops", A], expect: "ops" });
        expect(replay(r, plan.steps).window).toBe(false);
    });

    test("up to date: nothing; a leftover swap plugin is removed", () => {
        expect(planPluginChange(req({ reference: REF1 })).steps).toEqual([]);
        const leftover = planPluginChange(req({ reference: REF1, swap: { reference: REF1, enabled: false } }));
        expect(kinds(leftover.steps)).toEqual([`remove ${T}`]);
    });

    test("a swap interrupted with the swap plugin enforcing is finished", () => {
        const r = req({
            chain: [T],
            installed: { reference: REF1, enabled: false },
            swap: { reference: REF2, enabled: true },
        });
        const plan = planPluginChange(r);
        expect(kinds(plan.steps)).toEqual([`ensure ${A}`, `switch ${T}->${A}`, `remove ${T}`]);
        expect(replay(r, plan.steps)).toEqual({ window: false, chain: [A] });
    });

    test("both listed (an odd state): our alias leaves the chain first, the swap plugin enforcing meanwhile", () => {
        const r = req({ chain: [A, T], swap: { reference: REF2, enabled: true } });
        const plan = planPluginChange(r);
        expect(kinds(plan.steps)).toEqual([`switch ${A}->-`, `ensure ${A}`, `switch ${T}->${A}`, `remove ${T}`]);
        expect(replay(r, plan.steps)).toEqual({ window: false, chain: [A] });
    });

    test("listed but disabled (Docker already dropped it): enabled, then a reload puts it back in the path", () => {
        const plan = planPluginChange(req({ reference: REF1, installed: { reference: REF1, enabled: false } }));
        expect(plan.steps).toEqual([
            { kind: "ensure", alias: A },
            { kind: "reload", alias: A, expect: A },
        ]);
    });

    test("not listed: a plain install, with the token only while another plugin enforces", () => {
        expect(planPluginChange(req({ installed: undefined, chain: [] }))).toEqual({
            steps: [{ kind: "ensure", alias: A }],
            maintenance: false,
        });
        const alias = planPluginChange(req({ alias: "hdh-authz2", installed: undefined, chain: [A] }));
        expect(alias).toEqual({ steps: [{ kind: "ensure", alias: "hdh-authz2" }], maintenance: true });
    });

    test("removal: a listed plugin leaves the chain in one reload before it is disabled", () => {
        expect(kinds(planPluginRemoval(A, [A], false).steps)).toEqual([`switch ${A}->-`, `remove ${A}`]);
        expect(planPluginRemoval(A, [A], false).steps[0]).toMatchObject({ chain: [], expect: "" });
        expect(kinds(planPluginRemoval(A, ["hdh-authz2"], true).steps)).toEqual([`remove ${A}`, `remove ${T}`]);
        expect(planPluginRemoval(A, [], false).maintenance).toBe(false);
    });

    test("names: the swap alias, references as Docker stores them, the aliases we manage", () => {
        expect(swapAlias("hdh-authz:1.0")).toBe("hdh-authz-swap");
        expect(normalizeReference("busybox:1")).toBe("docker.io/library/busybox:1");
        expect(normalizeReference(REF1)).toBe(REF1);
        expect(managedAliases(["plugin-settings.hdh-authz", "authorization.json", "plugin-settings.x:1"])).toEqual([
            "hdh-authz",
            "x:1",
        ]);
    });
});

// The maintenance and lock modules, evaluated by opa with this project's policy (skipped without opa).
const OPA = path.resolve(__dirname, "../../.tools/bin/opa");
(fs.existsSync(OPA) ? describe : describe.skip)("the maintenance and lock modules with our policy (opa)", () => {
    let dir: string;
    const token = "f".repeat(64);
    const sha = createHash("sha256").update(token).digest("hex");
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-maint-"));
        fs.mkdirSync(path.join(dir, "policy"));
        const policies = path.resolve(__dirname, "../../policies");
        for (const f of fs.readdirSync(policies)) {
            const shipped = (f.endsWith(".rego") && !f.endsWith("_test.rego")) || f === "data.json";
            if (shipped) fs.copyFileSync(path.join(policies, f), path.join(dir, "policy", f));
        }
        const future = `${BigInt(Date.now() + 600_000) * 1_000_000n}`;
        fs.writeFileSync(path.join(dir, "maintenance.rego"), maintenanceModule(sha, future));
        fs.writeFileSync(path.join(dir, "expired.rego"), maintenanceModule(sha, "1000"));
        fs.writeFileSync(path.join(dir, "lock.rego"), promotionLockModule());
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** data.docker.authz.allow for a request, with these extra modules; "error" when the evaluation fails. */
    function allow(
        modules: string[],
        method: string,
        p: string,
        headers: Record<string, string>,
        body: unknown = null,
    ): string {
        const input = {
            Method: method,
            Path: p,
            PathPlain: p,
            Headers: headers,
            User: "",
            AuthMethod: "",
            Body: body,
            BindMounts: [],
            Query: {},
        };
        fs.writeFileSync(path.join(dir, "input.json"), JSON.stringify(input));
        try {
            const data = [path.join(dir, "policy"), ...modules.map((m) => path.join(dir, m))].flatMap((d) => ["-d", d]);
            const args = ["eval", "-f", "raw", ...data, "-i", path.join(dir, "input.json"), "data.docker.authz.allow"];
            return execFileSync(OPA, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
        } catch {
            return "error";
        }
    }

    test("plugin requests carrying the token are allowed, nothing else is", () => {
        const m = ["maintenance.rego"];
        expect(allow(m, "POST", "/v1.41/plugins/hdh-authz/disable", { "X-Hdh-Maintenance": token })).toBe("true");
        expect(allow(m, "POST", "/plugins/pull", { "x-hdh-maintenance": token })).toBe("true");
        expect(allow(m, "POST", "/v1.41/plugins/hdh-authz/disable", { "X-Hdh-Maintenance": "e".repeat(64) })).toBe(
            "false",
        );
        expect(allow(m, "POST", "/v1.41/plugins/hdh-authz/disable", {})).toBe("false");
        expect(
            allow(
                m,
                "POST",
                "/v1.41/containers/create",
                { "X-Hdh-Maintenance": token, "Content-Type": "application/json" },
                { Image: "x", User: "1000", HostConfig: { Privileged: true } },
            ),
        ).toBe("false");
        expect(
            allow(["expired.rego"], "POST", "/v1.41/plugins/hdh-authz/disable", { "X-Hdh-Maintenance": token }),
        ).toBe("false");
        expect(allow(m, "GET", "/v1.41/containers/json", {})).toBe("true"); // everyday work is the policy's
    });

    test("the lock refuses every request but our maintenance, with or without the maintenance module", () => {
        expect(allow(["lock.rego"], "GET", "/v1.41/containers/json", {})).not.toBe("true");
        expect(allow(["lock.rego", "maintenance.rego"], "GET", "/v1.41/containers/json", {})).not.toBe("true");
        const both = ["lock.rego", "maintenance.rego"];
        expect(allow(both, "POST", "/v1.41/plugins/x/enable", { "X-Hdh-Maintenance": token })).toBe("true");
    });

    test("both modules compile with the policy under opa check --strict", () => {
        const files = ["policy", "maintenance.rego", "lock.rego"].map((f) => path.join(dir, f));
        expect(() => execFileSync(OPA, ["check", "--strict", ...files], { stdio: "pipe" })).not.toThrow();
    });
});

describe("checkPinnedReference", () => {
    test.each([
        "localhost:5000/hdh/opa-authz:0.1.1",
        "registry.example/team/opa-authz:1",
        `registry.example:5000/opa-authz@sha256:${"a".repeat(64)}`,
    ])("%s is pinned", (reference) => {
        expect(() => checkPinnedReference("h1", reference)).not.toThrow();
    });

    test.each([
        ["localhost:5000/hdh/opa-authz", /^host h1: plugin\.image: ".*" has no tag, so Docker takes :latest/],
        ["localhost:5000/hdh/opa-authz:latest", /^host h1: plugin\.image: ".*" is :latest: it is not pinned\. Fix: /],
        ["localhost:5000/hdh/opa-authz:", /has no tag/],
        ["opa-authz@sha256:abc", /has a malformed digest/],
    ])("%s is refused in one line", (reference, message) => {
        expect(() => checkPinnedReference("h1", reference)).toThrow(message);
    });
});

describe("checkAlias and checkImage", () => {
    test("names Docker accepts pass; anything that could not go into a script or a request body is refused", () => {
        expect(() => checkAlias("h1", "hdh-authz")).not.toThrow();
        expect(() => checkAlias("h1", "hdh.authz_2:v1")).not.toThrow();
        expect(() => checkAlias("h1", "HDH")).toThrow(/^host h1: plugin\.alias: "HDH" is not a plugin name Docker/);
        expect(() => checkAlias("h1", "a;reboot")).toThrow(/^host h1: plugin\.alias: /);
        expect(() => checkImage("h1", "canaryImage", "localhost:5000/hdh/busybox:1")).not.toThrow();
        expect(() => checkImage("h1", "canaryImage", "")).not.toThrow(); // no canary
        expect(() => checkImage("h1", "canaryImage", 'busybox" true')).toThrow(
            /^host h1: canaryImage: "busybox" true" is not an image reference\. Fix: /,
        );
    });
});
