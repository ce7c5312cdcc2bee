import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const LOADER = path.join(ROOT, "scripts/pulumi/typescript-loader.js");

/**
 * Loads `main.ts` of a program folder through the language host's loader in a fresh Node.js process; prints
 * what the program exports and whether the compiler was loaded.
 */
function runProgram(dir: string, cache: string): { value: string; compiled: boolean; stack: string } {
    const script = `
const { registerTypeScript } = require(${JSON.stringify(LOADER)});
let compiled = false;
registerTypeScript(${JSON.stringify(dir)}, (id) => {
    if (id === "ts-node") compiled = true;
    return require.resolve(id, { paths: [${JSON.stringify(ROOT)}] });
});
const m = require(${JSON.stringify(path.join(dir, "main.ts"))});
console.log(JSON.stringify({ value: m.value, compiled, stack: m.where() }));`;
    const env = { ...process.env, HDH_TS_CACHE: cache };
    const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", env });
    return JSON.parse(out.trim().split("\n").pop() as string);
}

describe("the language host's TypeScript loader", () => {
    let dir: string;
    let cache: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-tsprogram-"));
        cache = path.join(dir, ".cache");
        const options = { target: "es2022", module: "commonjs", strict: true };
        fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: options }));
        fs.writeFileSync(
            path.join(dir, "main.ts"),
            [
                "interface Shape { sides: number }",
                "const square: Shape = { sides: 4 };",
                "export const value: string = `sides=${square.sides}`;",
                'export function where(): string { return new Error().stack?.split("\\n")[1] ?? ""; }',
                "",
            ].join("\n"),
        );
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("compiles once, then runs from the cache without loading the compiler; stacks show .ts lines", () => {
        const first = runProgram(dir, cache);
        expect(first).toMatchObject({ value: "sides=4", compiled: true });
        expect(fs.readdirSync(cache).filter((f) => f.endsWith(".js"))).toHaveLength(1);
        const second = runProgram(dir, cache);
        expect(second).toMatchObject({ value: "sides=4", compiled: false });
        expect(second.stack).toMatch(/main\.ts:4:\d+/);
    });

    test("a changed source or tsconfig.json is compiled again", () => {
        runProgram(dir, cache);
        fs.appendFileSync(path.join(dir, "main.ts"), "export const more = 1;\n");
        expect(runProgram(dir, cache).compiled).toBe(true);
        const options = { target: "es2020", module: "commonjs" };
        fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: options }));
        expect(runProgram(dir, cache).compiled).toBe(true);
        expect(runProgram(dir, cache).compiled).toBe(false);
    });
});
