import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileSetHash, filesOf, parseReadFiles, readFilesScript, writeFilesScript } from "../../components/host/files";
import { shq } from "../../components/host/shell";

// The shell the steps send to hosts, run here under sh against a temp folder.
const sh = (script: string) => execFileSync("sh", ["-c", script], { encoding: "utf8" });

describe("host file scripts", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-files-"));
    });
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
        expect(parseReadFiles(sh(readFilesScript(dir, ["a.rego"], "*")))).toEqual({
            "a.rego": "a",
            "evil.rego": "package evil",
        });
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

    test("a folder read whole answers as the folder script would, for our patterns only", () => {
        const folder = { "a.rego": "a", "stray.rego": "s" };
        expect(filesOf(folder, ["a.rego", "gone.rego"])).toEqual({ "a.rego": "a" });
        expect(filesOf(folder, ["a.rego"], "*")).toEqual(folder);
        expect(filesOf(folder, ["a.rego"], "*.rego")).toBeUndefined();
    });
});
