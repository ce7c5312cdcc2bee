import {
    SECRET,
    UNKNOWN,
    comparableInputs,
    hashLongStrings,
    normalizeValue,
    usableString,
} from "../../components/plan/previewValues";

describe("previewValues", () => {
    test("secrets, private keys and secret-looking keys become a marker; unknowns a word; keys sorted", () => {
        expect(
            normalizeValue({
                b: "[secret]",
                a: "-----BEGIN OPENSSH PRIVATE KEY-----\nx",
                token: "t",
                u: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
                n: [1, undefined],
            }),
        ).toEqual({ a: SECRET, b: SECRET, n: [1, null], token: SECRET, u: UNKNOWN });
        expect(Object.keys(normalizeValue({ b: 1, a: 2 }) as object)).toEqual(["a", "b"]);
    });

    test("comparable inputs leave out connections, provider internals and what is asked", () => {
        expect(comparableInputs({ __provider: "p", connection: { host: "h" }, a: 1, b: 2 }, ["b"])).toEqual({ a: 1 });
    });

    test("long strings as their hash; usable strings are neither secret nor unknown nor empty", () => {
        expect(hashLongStrings(["x".repeat(201)])).toEqual([
            expect.stringMatching(/^sha256:[0-9a-f]{64} \(201 chars\)$/),
        ]);
        expect(hashLongStrings("short")).toBe("short");
        expect(["v", "", "[secret]", "04da6b54-80e4-46f7-96ec-b56ff0331ba9", 5].map(usableString)).toEqual([
            "v",
            undefined,
            undefined,
            undefined,
            undefined,
        ]);
    });
});
