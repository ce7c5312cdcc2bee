import { changeText, describePath, plainChange, plainValue, shortValue } from "../../components/plan/changeWording";

describe("changeWording", () => {
    test("daemon settings are daemon.json keys, policy files are files, the rest by resource", () => {
        expect(describePath("daemon", "settings.log-opts.max-size")).toEqual({
            subject: "daemon.json",
            rel: "log-opts.max-size",
        });
        expect(describePath("daemon", "dockerAction")).toEqual({ subject: "daemon.json step", rel: "dockerAction" });
        expect(describePath("policy", 'files["data.json"].docker')).toEqual({
            subject: "policy data.json",
            rel: "docker",
        });
        expect(plainChange("plugin", "reference")).toBe("plugin reference");
        expect(plainChange("daemon", "settings")).toBe("daemon.json");
    });

    test("values: hashes cut, strings bare unless that misleads, secrets as words", () => {
        expect(shortValue("a".repeat(64))).toBe("aaaaaaaaaaaa…");
        expect(shortValue("5")).toBe('"5"');
        expect(shortValue("plain")).toBe("plain");
        expect(plainValue("[secret]")).toBe("(secret)");
        expect(plainValue(undefined)).toBe("absent");
        expect(changeText({ path: "icc", from: false, to: true })).toBe("`icc`: `false` → `true`");
        expect(changeText({ path: "k", to: "[secret]" })).toBe("`k`: added (secret)");
    });
});
