import * as fs from "node:fs";
import Module from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { providerModuleText } from "../../components/providers/dynamicStep";

/** Loads a provider text the way Pulumi's dynamic-provider host does (a module compiled from a string). */
function load(text: string): { handler: () => unknown } {
    const m = new Module("provider-text") as Module & { _compile(code: string, file: string): void };
    m.paths = [];
    m._compile(text, path.join(os.tmpdir(), "provider-text.js"));
    return m.exports as { handler: () => unknown };
}

describe("a step's provider text", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hdh-provider-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("its handler builds the runtime's provider for the implementation, with the computed keys", () => {
        const runtime = path.join(dir, 'it\'s a "runtime"');
        fs.writeFileSync(`${runtime}.js`, "exports.lazyProvider = (impl, keys) => ({ impl, keys });\n");
        const text = providerModuleText(runtime, "/pkg/dist/components/providers/x Provider", ["sha256", "machine"]);
        expect(load(text).handler()).toEqual({
            impl: "/pkg/dist/components/providers/x Provider",
            keys: ["sha256", "machine"],
        });
    });

    test("the text is small and the same for the same files (the state stores it with every step)", () => {
        const dist = "/pkg/dist/components/providers";
        const text = () => providerModuleText(`${dist}/lazyProvider`, `${dist}/p`, ["k"]);
        const a = text();
        expect(a).toBe(text());
        expect(a.length).toBeLessThan(300);
    });
});
