import { execFileSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

describe("TypeScript for the SDK's closure serializer, on first use", () => {
    test("loading @pulumi/pulumi does not load TypeScript; serializing a closure still works", () => {
        const script = `
require(${JSON.stringify(path.join(ROOT, "scripts/pulumi/lazy-typescript.js"))})
    .deferTypeScript((id) => require.resolve(id, { paths: [${JSON.stringify(ROOT)}] }));
const compiler = require("path").join("typescript", "lib", "typescript.js");
const loaded = () => Object.keys(require.cache).some((k) => k.endsWith(compiler));
const pulumi = require(require.resolve("@pulumi/pulumi", { paths: [${JSON.stringify(ROOT)}] }));
const before = loaded();
pulumi.runtime.serializeFunction(() => 40 + 2)
    .then((f) => console.log(JSON.stringify({ before, after: loaded(), text: f.text })));`;
        const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8" });
        const r = JSON.parse(out.trim().split("\n").pop() as string);
        expect(r.before).toBe(false);
        expect(r.after).toBe(true);
        expect(r.text).toContain("40 + 2");
    });
});
