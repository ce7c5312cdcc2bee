import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { b64 } from "../../components/host/dockerd";
import { hostScript } from "../../components/host/scripts";
import { shq } from "../../components/host/shell";
import { sha256Hex } from "../../components/plan/sha256";

// sh/ids.sh under a real sh, on a temp file standing in for /etc/subuid: written only under shadow's lock and
// only if the file is still what the plan was made from; `sleep` only records.

let t: string;
let file: string;
beforeEach(() => {
    t = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-ids-"));
    file = path.join(t, "subuid");
});
afterEach(() => fs.rmSync(t, { recursive: true, force: true }));

function write(before: string, after: string) {
    const script = [
        "set -e",
        hostScript("ids.sh"),
        `sleep() { echo "$1" >> ${shq(path.join(t, "sleeps"))}; }`,
        `hdh_ids_write ${[file, sha256Hex(before), b64(after)].map(shq).join(" ")}`,
    ].join("\n");
    const r = spawnSync("sh", ["-c", script], { encoding: "utf8" });
    return { status: r.status ?? -1, stderr: r.stderr };
}

const leftovers = () => fs.readdirSync(t).filter((n) => n !== "subuid" && n !== "sleeps");

describe("hdh_ids_write", () => {
    test("writes the planned content (0644) over the file it was planned from, and leaves no lock", () => {
        fs.writeFileSync(file, "ops:100000:65536\n");
        expect(write("ops:100000:65536\n", "ops:100000:65536\ndockremap:165536:65536\n").status).toBe(0);
        expect(fs.readFileSync(file, "utf8")).toBe("ops:100000:65536\ndockremap:165536:65536\n");
        expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("644");
        expect(leftovers()).toEqual([]);
    });

    test("a missing file is planned from as empty", () => {
        expect(write("", "dockremap:100000:65536\n").status).toBe(0);
        expect(fs.readFileSync(file, "utf8")).toBe("dockremap:100000:65536\n");
    });

    test("a file edited since the plan is left alone, the step fails (4) saying so, the lock is released", () => {
        fs.writeFileSync(file, "someone:100000:65536\n");
        const r = write("", "dockremap:100000:65536\n");
        expect(r.status).toBe(4);
        expect(r.stderr).toContain("changed while we planned; run again");
        expect(fs.readFileSync(file, "utf8")).toBe("someone:100000:65536\n");
        expect(leftovers()).toEqual([]);
    });

    test("a lock held by another tool is waited for 5 s, then the step fails naming it", () => {
        fs.writeFileSync(`${file}.lock`, "123\n");
        const r = write("", "dockremap:100000:65536\n");
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`${file} is locked by another tool (${file}.lock)`);
        expect(fs.readFileSync(path.join(t, "sleeps"), "utf8").split("\n").filter(Boolean)).toHaveLength(50);
        expect(fs.existsSync(file)).toBe(false);
        expect(leftovers()).toEqual(["subuid.lock"]); // theirs, untouched
    });
});
