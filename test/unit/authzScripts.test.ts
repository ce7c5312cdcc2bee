import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planAuthorization, promotionLockModule } from "../../components/plan/authorization";
import { PluginStep, planPluginChange, planPluginRemoval } from "../../components/plan/pluginChange";
import { canonicalJson } from "../../components/plan/json";
import { shq } from "../../components/host/shell";
import {
    PluginStepContext,
    authzFunctions,
    authzVariables,
    maintenanceLines,
    pluginStepsScript,
} from "../../components/providers/authzScripts";
import { authorizationScript } from "../../components/providers/authorizationProvider";
import { pluginScript } from "../../components/providers/pluginProvider";
import { runHostShell } from "./hostShell";

// The host shell of the authorization steps, run here under a real sh with a fake docker CLI on PATH that keeps
// plugins, daemon.json's chain and the daemon's request path ("middleware") in files. It logs WINDOW whenever
// the request path empties while the host should be enforcing, and DIED when a reload lists a plugin that is not
// enabled (dockerd exits on that).

const FAKE_DOCKER = `#!/bin/sh
S=$FAKE
maint=no
if [ "$1" = --config ]; then maint=yes; shift 2; fi
log() { echo "$*" >> "$S/log"; }
first() { head -n 1 "$S/middleware" 2>/dev/null; }
state() { cat "$S/plugins/$1" 2>/dev/null; }
ref() { state "$1" | cut -d' ' -f1; }
enabled() { state "$1" | cut -d' ' -f2; }
put() { printf '%s %s\\n' "$2" "$3" > "$S/plugins/$1"; }
leave() {
  grep -vxF "$1" "$S/middleware" > "$S/middleware.new" || true; mv "$S/middleware.new" "$S/middleware"
  if [ ! -s "$S/middleware" ] && [ -f "$S/expect-enforced" ]; then log WINDOW; fi
}
refuse() { echo "Error response from daemon: authorization denied by plugin $1: $2" >&2; exit 1; }
# Plugin changes: refused by the first plugin in the request path, unless they carry the maintenance token.
authz() {
  f=$(first)
  if [ -n "$f" ] && [ $maint = no ]; then refuse "$f" "plugins are not allowed (rule plugins)"; fi
  log "$maint $*"
}
# A policy that refuses everything but our maintenance (e.g. its main file was removed).
if [ -f "$S/refuse-all" ] && [ $maint = no ] && [ -n "$(first)" ]; then
  refuse "$(first)" "policy decision undefined"
fi
case "$1 $2" in
  "plugin inspect")
    shift 2; fmt=; [ "$1" = -f ] && { fmt=$2; shift 2; }
    [ -f "$S/plugins/$1" ] || { echo "Error: No such plugin: $1" >&2; exit 1; }
    case "$fmt" in
      *PluginReference*) ref "$1" ;; *Enabled*) enabled "$1" ;; *ID*) echo "id-$1" ;;
      *Mounts*) cat "$S/plugins/$1.source" 2>/dev/null || true ;; *) echo '{}' ;;
    esac ;;
  "plugin disable")
    shift 2; [ "$1" = -f ] && shift
    if [ "$1" = hdh-authorization-probe ]; then
      f=$(first)
      if [ -n "$f" ] && [ $maint = no ]; then refuse "$f" "plugins are not allowed (rule plugins)"; fi
      echo "Error response from daemon: plugin hdh-authorization-probe not found" >&2; exit 1
    fi
    authz disable "$1"
    [ -f "$S/plugins/$1" ] || { echo "Error: no such plugin $1" >&2; exit 1; }
    put "$1" "$(ref "$1")" false; leave "$1" ;;
  "plugin enable") authz enable "$3"; put "$3" "$(ref "$3")" true ;;
  "plugin set") authz set "$3"; [ "$(enabled "$3")" = false ] || { echo "plugin must be disabled" >&2; exit 1; }
    for kv in "$@"; do case "$kv" in policies.source=*) echo "\${kv#*=}" > "$S/plugins/$3.source" ;; esac; done ;;
  "plugin install")
    a=$6 r=$7; authz install "$a" "$r"
    [ -f "$S/plugins/$a" ] && { echo "plugin $a exists" >&2; exit 1; }
    put "$a" "$r" false ;;
  "plugin upgrade")
    a=$5 r=$6; authz upgrade "$a" "$r"
    [ "$(enabled "$a")" = false ] || { echo "plugin must be disabled before upgrading" >&2; exit 1; }
    put "$a" "$r" false ;;
  "plugin rm") authz rm "$4"; put "$4" x false; leave "$4"; rm -f "$S/plugins/$4" "$S/plugins/$4.source" ;;
  "info -f") echo "$S/root" ;;
  *) echo "fake docker: $*" >&2; exit 2 ;;
esac
`;

/** Stubs of dockerFunctions: daemon.json in a temp folder; a reload puts the file's chain in the request path. */
const STUBS = `
set -e
hdh_install_daemon_json() { echo "$1" | base64 -d > "$HDH_DAEMON_JSON"; }
hdh_wait_healthy() { return 0; }
hdh_reload() {
  chain=$(tr -d ' \\t\\r\\n' < "$HDH_DAEMON_JSON" | grep -o '"authorization-plugins":\\[[^]]*\\]' \\
    | sed 's/.*\\[//; s/\\]//; s/"//g' | tr ',' ' ' || true)
  for p in $chain; do
    [ "$(cut -d' ' -f2 "$FAKE/plugins/$p" 2>/dev/null)" = true ] && continue
    echo DIED >> "$FAKE/log"; : > "$FAKE/middleware"; return 0
  done
  : > "$FAKE/middleware"; for p in $chain; do echo "$p" >> "$FAKE/middleware"; done
  if [ ! -s "$FAKE/middleware" ] && [ -f "$FAKE/expect-enforced" ]; then echo WINDOW >> "$FAKE/log"; fi
}
`;

const REF1 = "localhost:5000/hdh/opa-authz:0.1.0";
const REF2 = "localhost:5000/hdh/opa-authz:0.2.0";
const IMAGE = "localhost:5000/hdh/busybox:1";
const SETTINGS = { "policies.source": "" };

let root: string;
let fake: string;
let live: string;
let rec: string;

function setup(chain: string[], plugins: Record<string, [string, boolean]>): void {
    fs.writeFileSync(path.join(root, "daemon.json"), daemonJson(chain));
    fs.writeFileSync(path.join(fake, "middleware"), chain.map((p) => `${p}\n`).join(""));
    for (const [name, [ref, enabled]] of Object.entries(plugins)) {
        fs.writeFileSync(path.join(fake, "plugins", name), `${ref} ${enabled}\n`);
        fs.writeFileSync(path.join(fake, "plugins", `${name}.source`), `${live}\n`);
        fs.writeFileSync(path.join(rec, `plugin-settings.${name}`), `${settingsKey()}\n`);
    }
}

function settingsKey(): string {
    return b64(JSON.stringify(Object.entries({ ...SETTINGS, "policies.source": live }).sort()));
}

const b64 = (text: string) => Buffer.from(text).toString("base64");
const daemonJson = (chain: string[]) =>
    canonicalJson(chain.length ? { icc: false, "authorization-plugins": chain } : { icc: false });
const current = () => JSON.parse(fs.readFileSync(path.join(root, "daemon.json"), "utf8"));
const TOKEN = "a".repeat(64);

/** The steps of a plan, with the maintenance token placed for the chain that enforces. */
function withToken(steps: PluginStep[], chain: string[], ctxOf: PluginStepContext = ctx(current())): string {
    return [...maintenanceLines(TOKEN, [live], chain), pluginStepsScript(steps, ctxOf), "hdh_maint_end"].join("\n");
}

/** Runs a script with the stubs and the fake docker; returns exit status and stderr. */
function run(body: string, env: Record<string, string> = {}): { code: number; stderr: string; stdout: string } {
    const script = [
        `HDH_REC=${shq(rec)}`,
        `HDH_DAEMON_JSON=${shq(path.join(root, "daemon.json"))}`,
        STUBS,
        authzVariables("0".repeat(64), promotionLockModule()),
        authzFunctions,
        body,
    ].join("\n");
    const r = runHostShell(script, fake, { FAKE: fake, HOME: root, HDH_WAIT_TRIES: "5", ...env });
    return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

const log = () => (fs.existsSync(path.join(fake, "log")) ? fs.readFileSync(path.join(fake, "log"), "utf8") : "");
const middleware = () => fs.readFileSync(path.join(fake, "middleware"), "utf8").split("\n").filter(Boolean);
const plugin = (name: string) => {
    const f = path.join(fake, "plugins", name);
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim() : "absent";
};
const chainOnDisk = () => (current()["authorization-plugins"] ?? []) as string[];

function ctx(daemon: Record<string, unknown>): PluginStepContext {
    return {
        current: daemon as never,
        ensure: () => ({
            reference: REF2,
            normalized: REF2,
            settingsKey: settingsKey(),
            settings: Object.entries({ ...SETTINGS, "policies.source": live })
                .sort()
                .map(([k, v]) => `${k}=${v}`),
        }),
    };
}

beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-authz-"));
    fake = path.join(root, "fake");
    live = path.join(root, "live");
    rec = path.join(root, "rec");
    for (const d of [path.join(fake, "bin"), path.join(fake, "plugins"), live, rec]) {
        fs.mkdirSync(d, { recursive: true });
    }
    fs.writeFileSync(path.join(fake, "bin", "docker"), FAKE_DOCKER, { mode: 0o755 });
    fs.writeFileSync(path.join(live, "authz.rego"), "package docker.authz\n");
    fs.writeFileSync(path.join(fake, "expect-enforced"), "");
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe("plugin changes under enforcement (fake docker)", () => {
    const upgrade = () =>
        planPluginChange({
            alias: "hdh-authz",
            reference: REF2,
            settingsKey: settingsKey(),
            installed: { reference: REF1, enabled: true },
            recordedSettings: settingsKey(),
            chain: ["hdh-authz"],
        });

    test("an upgrade swaps through a second alias: the request path never empties, every change has the token", () => {
        setup(["hdh-authz"], { "hdh-authz": [REF1, true] });
        const r = run(withToken(upgrade().steps, ["hdh-authz"]));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(log()).not.toMatch(/WINDOW|DIED/);
        expect(middleware()).toEqual(["hdh-authz"]);
        expect(chainOnDisk()).toEqual(["hdh-authz"]);
        expect(plugin("hdh-authz")).toBe(`${REF2} true`);
        expect(plugin("hdh-authz-swap")).toBe("absent");
        // Every plugin change went through with the maintenance token, and the token's module is gone.
        expect(
            log()
                .split("\n")
                .filter(Boolean)
                .every((l) => l.startsWith("yes ")),
        ).toBe(true);
        expect(log()).toMatch(/yes install hdh-authz-swap/);
        expect(fs.readdirSync(live)).toEqual(["authz.rego"]);
        expect(fs.readdirSync(rec).filter((f) => f.startsWith("maintenance."))).toEqual([]);
    });

    test("a swap plugin that does not answer after the reload: the previous chain is back and the step fails", () => {
        setup(["hdh-authz"], { "hdh-authz": [REF1, true] });
        // A reload that dockerd ignores: the request path stays as it was.
        const r = run(["hdh_reload() { :; }", withToken(upgrade().steps, ["hdh-authz"])].join("\n"));
        expect(r.code).toBe(4);
        expect(r.stderr).toMatch(/does not name hdh-authz-swap .*the previous authorization-plugins is back/);
        expect(chainOnDisk()).toEqual(["hdh-authz"]);
        expect(middleware()).toEqual(["hdh-authz"]);
        expect(plugin("hdh-authz")).toBe(`${REF1} true`);
        expect(log()).not.toMatch(/WINDOW|DIED/);
        expect(fs.readdirSync(live)).toEqual(["authz.rego"]); // the EXIT trap removed the token's module
    });

    test("an enforcing plugin is never disabled in place", () => {
        setup(["hdh-authz"], { "hdh-authz": [REF1, true] });
        const r = run(`hdh_plugin_ensure hdh-authz ${REF2} ${REF2} x 'policies.source=${live}' || exit 9`);
        expect(r.code).toBe(9);
        expect(r.stderr).toMatch(/plugin hdh-authz enforces .*never disabled in place; nothing was changed/);
        expect(plugin("hdh-authz")).toBe(`${REF1} true`);
        expect(middleware()).toEqual(["hdh-authz"]);
    });

    test("a chain that lists a disabled plugin is never reloaded (dockerd would exit)", () => {
        setup(["hdh-authz"], { "hdh-authz": [REF1, true], other: [REF1, false] });
        const json = b64(daemonJson(["other"]));
        const back = b64(daemonJson(["hdh-authz"]));
        const r = run(`hdh_chain_switch ${json} other ${back} hdh-authz hdh-authz other || exit 9`);
        expect(r.code).toBe(9);
        expect(r.stderr).toMatch(/plugin other is not enabled, and dockerd exits on a reload that lists it/);
        expect(chainOnDisk()).toEqual(["hdh-authz"]);
        expect(log()).not.toMatch(/DIED/);
    });

    test("an alias change: the new alias is installed beside the enforcing one; the old one is removed after", () => {
        setup(["hdh-authz"], { "hdh-authz": [REF1, true] });
        const install = planPluginChange({
            alias: "hdh-authz2",
            reference: REF2,
            settingsKey: settingsKey(),
            chain: ["hdh-authz"],
        });
        expect(install.steps).toEqual([{ kind: "ensure", alias: "hdh-authz2" }]);
        let r = run(withToken(install.steps, ["hdh-authz"]));
        expect(r.code).toBe(0);
        expect(plugin("hdh-authz2")).toBe(`${REF2} true`);
        // (Authorization lists the new alias first, then the old Authorization takes the old one out.)
        const both = b64(daemonJson(["hdh-authz2", "hdh-authz"]));
        const only = b64(daemonJson(["hdh-authz2"]));
        r = run(
            `hdh_chain_switch ${both} hdh-authz2 x hdh-authz '' hdh-authz2 hdh-authz && ` +
                `hdh_chain_switch ${only} hdh-authz2 ${both} hdh-authz2 hdh-authz hdh-authz2`,
        );
        expect(r.code).toBe(0);
        expect(middleware()).toEqual(["hdh-authz2"]);
        const removal = planPluginRemoval("hdh-authz", ["hdh-authz2"], false);
        r = run(withToken(removal.steps, ["hdh-authz2"]));
        expect(r.stderr).toBe("");
        expect(plugin("hdh-authz")).toBe("absent");
        expect(middleware()).toEqual(["hdh-authz2"]);
        expect(log()).not.toMatch(/WINDOW|DIED/);
    });

    test("a policy refusing every request hides nothing from the token: the plugin stays in the path", () => {
        setup(["hdh-authz"], { "hdh-authz": [REF1, true] });
        fs.writeFileSync(path.join(fake, "refuse-all"), "");
        // The preflight could not list plugins, so the plan treats the listed plugin as not enabled.
        const plan = planPluginChange({
            alias: "hdh-authz",
            reference: REF1,
            settingsKey: settingsKey(),
            recordedSettings: settingsKey(),
            chain: ["hdh-authz"],
        });
        expect(plan.steps.map((x) => x.kind)).toEqual(["ensure", "reload"]);
        const ensure = () => ({
            reference: REF1,
            normalized: REF1,
            settingsKey: settingsKey(),
            settings: [`policies.source=${live}`],
        });
        const r = run(withToken(plan.steps, ["hdh-authz"], { current: current(), ensure }));
        expect(r.stderr).toBe("");
        expect(plugin("hdh-authz")).toBe(`${REF1} true`);
        expect(middleware()).toEqual(["hdh-authz"]);
        expect(log()).not.toMatch(/WINDOW|DIED|disable/);
    });

    test("without the token, the enforcing plugin refuses our plugin requests and nothing changes", () => {
        setup(["hdh-authz"], { "hdh-authz": [REF1, true] });
        const r = run(`hdh_plugin_remove other-plugin; hdh_plugin_ensure other ${REF2} ${REF2} x || exit 9`);
        expect(r.code).toBe(9);
        expect(r.stderr).toMatch(/authorization denied by plugin hdh-authz/);
        expect(plugin("other")).toBe("absent");
    });

    test("the maintenance client config keeps the caller's credentials and adds the header", () => {
        fs.mkdirSync(path.join(root, ".docker"));
        const auths = { "registry.example": { auth: "eA==" } };
        fs.writeFileSync(path.join(root, ".docker", "config.json"), `{\n  "auths": ${JSON.stringify(auths)}\n}\n`);
        const r = run(
            `hdh_maint_begin ${"c".repeat(64)}; cat "$HDH_MAINT_DIR/config.json"; ` + 'stat -c %a "$HDH_MAINT_DIR"',
        );
        expect(r.code).toBe(0);
        const [json, mode] = r.stdout.trim().split(/\n(?=\d+$)/);
        expect(JSON.parse(json)).toEqual({ auths, HttpHeaders: { "X-Hdh-Maintenance": "c".repeat(64) } });
        expect(mode).toBe("700");
        fs.writeFileSync(path.join(root, ".docker", "config.json"), "{}\n");
        const alone = run(`hdh_maint_begin t; cat "$HDH_MAINT_DIR/config.json"`).stdout;
        expect(JSON.parse(alone)).toEqual({ HttpHeaders: { "X-Hdh-Maintenance": "t" } });
    });
});

describe("policy staging (files)", () => {
    let staged: string;
    const liveFiles = () =>
        Object.fromEntries(fs.readdirSync(live).map((f) => [f, fs.readFileSync(path.join(live, f), "utf8")]));
    const promote = () => `hdh_policy_backup ${shq(live)} && hdh_policy_promote ${shq(staged)} ${shq(live)}`;
    const authorization = (active: boolean) =>
        ({
            connection: { host: "h" },
            alias: "hdh-authz",
            pluginReference: REF1,
            policySha256: "new",
            canaryImage: "img:1",
            policyDirectory: live,
            stagedDirectory: staged,
            active,
        }) as never;
    beforeEach(() => {
        staged = path.join(root, "staged");
        fs.mkdirSync(staged);
        fs.writeFileSync(path.join(staged, "authz.rego"), "package docker.authz\n# new\n");
        fs.writeFileSync(path.join(staged, "data.json"), "{}\n");
        fs.writeFileSync(path.join(live, "old.rego"), "package docker.authz\n# gone\n");
    });

    test("promote: the live folder becomes the staged one, no lock or temp file is left; restore puts it back", () => {
        const before = liveFiles();
        expect(run(promote()).code).toBe(0);
        expect(fs.readdirSync(live).sort()).toEqual(["authz.rego", "data.json"]);
        expect(fs.readFileSync(path.join(live, "authz.rego"), "utf8")).toContain("# new");
        expect(run(`hdh_policy_restore ${shq(live)}`).code).toBe(0);
        expect(liveFiles()).toEqual(before);
    });

    test("a copy that fails half-way puts the previous files back before the lock goes", () => {
        // cp -p SOURCE TEMP fails for data.json, after authz.rego was already replaced.
        const cp = '#!/bin/sh\ncase "$2" in */data.json) exit 1 ;; esac\nexec /bin/cp "$@"\n';
        fs.writeFileSync(path.join(fake, "bin", "cp"), cp, { mode: 0o755 });
        const r = run(`${promote()} || exit 9`);
        expect(r.code).toBe(9);
        expect(fs.readdirSync(live).sort()).toEqual(["authz.rego", "old.rego"]);
        expect(fs.readFileSync(path.join(live, "authz.rego"), "utf8")).toBe("package docker.authz\n");
    });

    test("a file name with spaces planted in the live folder does not survive a promotion", () => {
        fs.writeFileSync(path.join(live, "evil rule.rego"), "package docker.authz\n");
        expect(run(promote()).code).toBe(0);
        expect(fs.readdirSync(live).sort()).toEqual(["authz.rego", "data.json"]);
    });

    test("a policy failing the canary is rolled back: previous files live again, the plugin still enforcing", () => {
        fs.writeFileSync(path.join(staged, "too_strict.rego"), "package docker.authz\n");
        setup(["hdh-authz"], { "hdh-authz": [REF1, true] });
        const plan = planAuthorization({
            alias: "hdh-authz",
            chain: ["hdh-authz"],
            stagedSha256: "new",
            liveSha256: "old",
            liveMoved: false,
            enforcing: true,
        });
        const canary =
            `hdh_canary() { [ ! -f ${shq(live)}/too_strict.rego ] && return 0; ` +
            "echo 'canary: a compliant container was refused: nothing may run today' >&2; return 1; }";
        const before = fs.readdirSync(live).sort();
        const r = run([canary, authorizationScript(authorization(true), current(), plan, true)].join("\n"));
        expect(r.code).toBe(5);
        // The binary check could not run here (no plugin rootfs), so the canary judged the new policy live.
        expect(r.stderr).toMatch(/canary judges it live, with rollback/);
        expect(r.stderr).toMatch(
            new RegExp(
                "canary: a compliant container was refused: nothing may run today; the " +
                    "previous policy files are back; plugin hdh-authz enforces it and the canary passes again; " +
                    "Docker answers",
            ),
        );
        expect(fs.readdirSync(live).sort()).toEqual(before);
        expect(chainOnDisk()).toEqual(["hdh-authz"]);
        expect(middleware()).toEqual(["hdh-authz"]);
    });

    test("a first enablement whose canary fails leaves the host as it was: chain and policy files", () => {
        setup([], { "hdh-authz": [REF1, true] });
        fs.rmSync(path.join(fake, "expect-enforced"));
        const plan = planAuthorization({
            alias: "hdh-authz",
            chain: [],
            stagedSha256: "new",
            liveMoved: false,
            enforcing: false,
        });
        const canary = "hdh_canary() { echo 'canary: a privileged container was NOT refused' >&2; return 1; }";
        const r = run([canary, authorizationScript(authorization(false), current(), plan, true)].join("\n"));
        expect(r.code).toBe(5);
        expect(r.stderr).toMatch(
            /canary: a privileged container was NOT refused; the previous policy files are back; authorization is off/,
        );
        expect(chainOnDisk()).toEqual([]);
        expect(fs.readdirSync(live).sort()).toEqual(["authz.rego", "old.rego"]);
    });
});

// The pre-check runs our plugin's real binary (plugin/dist, built by npm run setup) on the canary's requests.
const PLUGIN_BINARY = path.resolve(__dirname, "../../plugin/dist/opa-authz/rootfs/opa-authz");
const hasBinary = fs.existsSync(PLUGIN_BINARY) && spawnSync("curl", ["--version"]).status === 0;
(hasBinary ? describe : describe.skip)("the staged policy judged by the plugin's own binary (not live yet)", () => {
    let staged: string;
    beforeEach(() => {
        staged = path.join(root, "staged");
        fs.mkdirSync(staged);
        const policies = path.resolve(__dirname, "../../policies");
        for (const f of fs.readdirSync(policies)) {
            const shipped = (f.endsWith(".rego") && !f.endsWith("_test.rego")) || f === "data.json";
            if (shipped) fs.copyFileSync(path.join(policies, f), path.join(staged, f));
        }
        fs.mkdirSync(path.join(fake, "root", "plugins", "id-hdh-authz", "rootfs"), { recursive: true });
        fs.symlinkSync(PLUGIN_BINARY, path.join(fake, "root", "plugins", "id-hdh-authz", "rootfs", "opa-authz"));
        setup(["hdh-authz"], { "hdh-authz": [REF1, true] });
    });
    const precheck = () => run(`rc=0; hdh_policy_precheck ${shq(staged)} hdh-authz ${IMAGE} || rc=$?; echo "rc=$rc"`);

    test("our policy passes", () => {
        const r = precheck();
        expect(r.stderr).toBe("");
        expect(r.stdout.trim()).toBe("rc=0");
    });

    test("a policy that refuses everyday work fails, saying what it refused", () => {
        const rule = 'deny contains "nothing may run today (rule too_strict)" if input.Method == "POST"';
        fs.writeFileSync(path.join(staged, "too_strict.rego"), `package docker.authz\n\nimport rego.v1\n\n${rule}\n`);
        const r = precheck();
        expect(r.stdout.trim()).toBe("rc=1");
        expect(r.stderr).toMatch(
            /\(staged policy, not live\): a compliant container would be refused: nothing may run today \(rule/,
        );
    });

    test("a policy that lets a privileged container through fails", () => {
        for (const f of fs.readdirSync(staged)) fs.rmSync(path.join(staged, f));
        const open = "package docker.authz\n\nimport rego.v1\n\ndefault allow := true\n";
        fs.writeFileSync(path.join(staged, "authz.rego"), open);
        const r = precheck();
        expect(r.stdout.trim()).toBe("rc=1");
        expect(r.stderr).toMatch(/a privileged container would NOT be refused/);
    });

    test("a policy that does not compile fails; no plugin process or socket is left", () => {
        fs.writeFileSync(path.join(staged, "broken.rego"), "package docker.authz\n\nallow if {\n");
        const r = precheck();
        expect(r.stdout.trim()).toBe("rc=1");
        expect(r.stderr).toMatch(/would be refused: policy does not compile/);
        expect(fs.readdirSync(rec).filter((f) => f.startsWith("precheck."))).toEqual([]);
        const pgrep = `pgrep -f -- ${shq(`[-]policy-dir ${staged}`)} || true`;
        const left = execFileSync("sh", ["-c", pgrep], { encoding: "utf8" });
        expect(left.trim()).toBe("");
    });

    test("without the plugin's binary the check says it cannot run (exit 2)", () => {
        fs.rmSync(path.join(fake, "root"), { recursive: true });
        expect(precheck().stdout.trim()).toBe("rc=2");
    });
});

describe("the whole step scripts", () => {
    const syntax = (script: string) => spawnSync("sh", ["-n", "-c", script], { encoding: "utf8" });

    test("every plugin and authorization script the providers can send parses under sh -n", () => {
        const daemon = { icc: false, "authorization-plugins": ["hdh-authz"] };
        const state = {
            connection: { host: "h" },
            reference: REF2,
            alias: "hdh-authz",
            dataRootKey: "",
            changeProcedure: "",
            enabled: true,
            settings: { "policies.source": "/etc/docker/policies", args: "-quiet" },
            installedReference: REF1,
        };
        const installed = { reference: REF1, enabled: true };
        const plans = [
            planPluginChange({
                alias: "hdh-authz",
                reference: REF2,
                settingsKey: "x",
                installed,
                recordedSettings: "x",
                chain: ["hdh-authz"],
            }),
            planPluginChange({ alias: "hdh-authz", reference: REF2, settingsKey: "x", chain: [] }),
            planPluginRemoval("hdh-authz", ["hdh-authz"], true),
        ];
        for (const plan of plans) {
            expect(syntax(pluginScript(state as never, daemon, plan, "d".repeat(64))).stderr).toBe("");
        }
        const auth = {
            connection: { host: "h" },
            alias: "hdh-authz",
            pluginReference: REF1,
            policySha256: "n",
            canaryImage: "img:1",
            active: true,
            policyDirectory: "/etc/docker/policies",
            stagedDirectory: "/var/lib/hardened-docker-host/policy-staged",
        };
        for (const chain of [[], ["hdh-authz"], ["ops", "hdh-authz"]]) {
            for (const enforcing of [true, false]) {
                const plan = planAuthorization({
                    alias: "hdh-authz",
                    chain,
                    stagedSha256: "n",
                    liveSha256: "o",
                    liveMoved: false,
                    enforcing,
                });
                const script = authorizationScript(auth as never, { "authorization-plugins": chain }, plan, true);
                expect(syntax([authzFunctions, script].join("\n")).stderr).toBe("");
            }
        }
    });
});
