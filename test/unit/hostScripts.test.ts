import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileSetHash, filesOf, parseReadFiles, readFilesScript, writeFilesScript } from "../../components/host/files";
import { findPlugin, foldersScript, parseFolders, parseProbe, probeScript } from "../../components/host/probe";
import { shq } from "../../components/host/shell";
import { listsAuthorizationPlugin, withAuthorizationPlugin } from "../../components/providers/authzScripts";
import { splitPreflightAfter, withPreflightAfter } from "../../components/providers/preflight";

// The shell the steps send to hosts, run here under sh against a temp folder.
const sh = (script: string) => execFileSync("sh", ["-c", script], { encoding: "utf8" });

describe("host file scripts", () => {
    let dir: string;
    beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-files-")); });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("write then read round-trips any content, leaves no temp files", () => {
        const files = { "authz.rego": "package x\n\n# it's 'quoted' $HOME `x`\n", "data.json": "{}" };
        sh(writeFilesScript(dir, files, "0640"));
        expect(fs.readdirSync(dir).sort()).toEqual(["authz.rego", "data.json"]);
        expect((fs.statSync(path.join(dir, "authz.rego")).mode & 0o777).toString(8)).toBe("640");
        expect(parseReadFiles(sh(readFilesScript(dir, Object.keys(files))))).toEqual(files);
    });

    test("an exclusive folder reports and removes stray files; others are left alone", () => {
        sh(writeFilesScript(dir, { "a.rego": "a" }, "0644"));
        fs.writeFileSync(path.join(dir, "evil.rego"), "package evil");
        expect(parseReadFiles(sh(readFilesScript(dir, ["a.rego"], "*")))).toEqual({ "a.rego": "a", "evil.rego": "package evil" });
        expect(parseReadFiles(sh(readFilesScript(dir, ["a.rego"])))).toEqual({ "a.rego": "a" });
        sh(writeFilesScript(dir, { "a.rego": "a2" }, "0644", [], "*"));
        expect(fs.readdirSync(dir)).toEqual(["a.rego"]);
    });

    test("files no longer wanted are removed, missing files read back as absent", () => {
        sh(writeFilesScript(dir, { "a.rego": "a", "b.rego": "b" }, "0644"));
        sh(writeFilesScript(dir, { "a.rego": "a" }, "0644", ["b.rego"]));
        expect(parseReadFiles(sh(readFilesScript(dir, ["a.rego", "b.rego"])))).toEqual({ "a.rego": "a" });
    });

    test("unsafe file names are refused", () => {
        expect(() => writeFilesScript(dir, { "../etc/passwd": "x" }, "0644")).toThrow(/file name/);
        expect(() => writeFilesScript(dir, { ".hidden": "x" }, "0644")).toThrow(/file name/);
    });

    test("the file-set hash depends on names and contents, not on order", () => {
        expect(fileSetHash({ a: "1", b: "2" })).toBe(fileSetHash({ b: "2", a: "1" }));
        expect(fileSetHash({ a: "1", b: "2" })).not.toBe(fileSetHash({ a: "2", b: "1" }));
        expect(fileSetHash({ ab: "" })).not.toBe(fileSetHash({ a: "b" }));
    });

    test("shq survives quotes and expansions", () => {
        for (const s of ["plain", "it's", "$(rm -rf /)", "a\nb", "'"]) expect(sh(`printf %s ${shq(s)}`)).toBe(s);
    });
});

describe("preflight parsing", () => {
    test("reads every fact, decoding files", () => {
        const b = (s: string) => Buffer.from(s).toString("base64");
        const facts = parseProbe([
            "os=debian 12", "init=sysv", "dockerVersion=20.10.24+dfsg1",
            "info=/var/lib/docker/296608.296608|2|0|name=seccomp,profile=default,name=userns",
            `plugins=${b("hdh-authz:latest|true|localhost:5000/hdh/opa-authz:0.1.0\nother:1|false|x/other:1\n")}`,
            `daemonJson=${b('{"icc":false}')}`, `subuid=${b("a:1:2\n")}`, "subgid=absent", "loginDefs=absent", "users=root,daemon,dockremap",
        ].join("\n"));
        expect(facts).toMatchObject({ initSystem: "sysv", containers: 2, images: 0, usernsActive: true, dataRoot: "/var/lib/docker/296608.296608",
            daemonJson: '{"icc":false}', subuid: "a:1:2\n", subgid: "", users: ["root", "daemon", "dockremap"] });
        expect(findPlugin(facts, "hdh-authz")).toEqual({ name: "hdh-authz:latest", enabled: true, reference: "localhost:5000/hdh/opa-authz:0.1.0" });
        expect(findPlugin(facts, "other:1")?.enabled).toBe(false);
        expect(findPlugin(facts, "missing")).toBeUndefined();
    });

    test("a host without Docker or daemon.json, and one whose authorization refuses us", () => {
        const facts = parseProbe("os=debian 12\ninit=none\ninfo=\nplugins=\ndaemonJson=absent\n");
        expect(facts).toMatchObject({ initSystem: "none", dockerVersion: "", apiRefused: false, daemonJson: undefined, plugins: [], usernsActive: false, dataRoot: "" });
        expect(parseProbe("apiRefused=yes\n").apiRefused).toBe(true);
    });
});

describe("policy folders read by the preflight", () => {
    let dir: string;
    beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-folders-")); });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("the staged folder always, the noted live folder when there is a note; a missing folder reads empty", () => {
        const staged = path.join(dir, "staged");
        const live = path.join(dir, "live folder");
        const note = path.join(dir, "policy-live");
        sh(writeFilesScript(staged, { "a.rego": "package a\n", "data.json": "{}" }, "0644"));
        expect(parseFolders(sh(foldersScript(staged, note))))
            .toEqual({ [staged]: { "a.rego": "package a\n", "data.json": "{}" } });
        fs.writeFileSync(note, `${live}\n`);
        expect(parseFolders(sh(foldersScript(staged, note)))[live]).toEqual({});
        sh(writeFilesScript(live, { "b.rego": "it's $HOME `x`" }, "0644"));
        fs.mkdirSync(path.join(live, "sub"));
        expect(parseFolders(sh(foldersScript(staged, note)))[live]).toEqual({ "b.rego": "it's $HOME `x`" });
    });

    test("a folder read whole answers as the folder script would, for our patterns only", () => {
        const folder = { "a.rego": "a", "stray.rego": "s" };
        expect(filesOf(folder, ["a.rego", "gone.rego"])).toEqual({ "a.rego": "a" });
        expect(filesOf(folder, ["a.rego"], "*")).toEqual(folder);
        expect(filesOf(folder, ["a.rego"], "*.rego")).toBeUndefined();
    });
});

describe("preflight script under sh, with a fake docker on PATH", () => {
    let bin: string;
    beforeEach(() => { bin = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-probe-")); });
    afterEach(() => fs.rmSync(bin, { recursive: true, force: true }));
    const fake = (name: string, body: string) =>
        fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    const fakeDocker = (body: string) => fake("docker", body);
    const env = () => ({ ...process.env, PATH: `${bin}:${process.env.PATH}` });
    const probe = () => parseProbe(execFileSync("sh", ["-c", probeScript], { encoding: "utf8", env: env() }));

    test("one docker info gives the summary and the JSON; the other calls fill their keys", () => {
        fakeDocker(`case "$1 $2" in
  "version -f") echo 24.0.7 ;;
  "info --format") printf '%s\\n' '/var/lib/docker/1.1|3|2|name=seccomp,name=userns' '{"ServerVersion":"24.0.7"}' ;;
  "plugin ls") echo 'hdh-authz:latest|true|r/opa:1' ;;
  "plugin disable") echo "Error response from daemon: authorization denied by plugin p: no" >&2; exit 1 ;;
  "ps --format") printf 'web\\ndb\\n' ;;
esac`);
        expect(probe()).toMatchObject({
            dockerVersion: "24.0.7", dataRoot: "/var/lib/docker/1.1", containers: 3, images: 2, usernsActive: true,
            apiRefused: false, dockerInfo: { ServerVersion: "24.0.7" }, runningContainers: ["web", "db"],
            plugins: [{ name: "hdh-authz:latest", enabled: true, reference: "r/opa:1" }],
        });
        expect(probe().authzAnswer).toMatch(/^Error response from daemon: authorization denied by plugin p: no\s*$/);
    });

    test("a change is followed by the preflight in the same script; a failed change is not", () => {
        fakeDocker('[ "$1" = version ] && echo 25.0.1; exit 0');
        const run = (script: string) =>
            execFileSync("sh", ["-c", withPreflightAfter(script)], { encoding: "utf8", env: env() });
        const done = splitPreflightAfter(run("echo changed\nexit 0\necho never"));
        expect(done.own).toBe("changed\n");
        expect(parseProbe(done.probe ?? "").dockerVersion).toBe("25.0.1");
        expect(splitPreflightAfter(run("printf no-newline")).own).toBe("no-newline");
        expect(() => run("echo half; exit 3")).toThrow(/failed/i);
        // The change's own `set -e` still stops it at the first failing command.
        expect(() => run("set -e\nfalse\necho went on")).toThrow(/failed/i);
        expect(splitPreflightAfter("output of an older script\n")).toEqual({ own: "output of an older script\n" });
        // A preflight cut short leaves no reading (the next step reads the host itself), and fails nothing.
        fake("mktemp", "echo 'mktemp: No space left on device' >&2; exit 1");
        const cut = splitPreflightAfter(run("echo changed"));
        expect(cut).toEqual({ own: "changed\n", probe: undefined });
    });

    test("a daemon whose authorization refuses us, and one that does not answer", () => {
        // On failure the CLI still prints the template with empty server fields.
        fakeDocker('echo "Error response from daemon: authorization denied by plugin p: x" >&2\n'
            + '[ "$1" = info ] && echo "|0|0|"; exit 1');
        expect(probe()).toMatchObject({
            apiRefused: true, dockerVersion: "", dataRoot: "", dockerInfo: undefined, plugins: [],
            runningContainers: [],
        });
        fakeDocker('echo "Cannot connect to the Docker daemon" >&2; exit 1');
        expect(probe()).toMatchObject({ apiRefused: false, dockerVersion: "", dockerInfo: undefined, plugins: [] });
    });
});

describe("authorization-plugins edits", () => {
    test("adds once, removes only ours, drops the key when empty", () => {
        const on = withAuthorizationPlugin({ debug: true }, "hdh-authz", true);
        expect(on).toEqual({ debug: true, "authorization-plugins": ["hdh-authz"] });
        expect(withAuthorizationPlugin(on, "hdh-authz", true)).toEqual(on);
        expect(listsAuthorizationPlugin(on, "hdh-authz")).toBe(true);
        expect(withAuthorizationPlugin({ "authorization-plugins": ["other", "hdh-authz"] }, "hdh-authz", false)).toEqual({ "authorization-plugins": ["other"] });
        expect(withAuthorizationPlugin(on, "hdh-authz", false)).toEqual({ debug: true });
    });
});
