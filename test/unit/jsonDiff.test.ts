import { diffJson } from "../../components/plan/jsonDiff";

describe("diffJson", () => {
    test("objects key by key, arrays element by element", () => {
        expect(diffJson({ a: [1, { b: 2 }], c: "x" }, { a: [1, { b: 3 }, 4], d: null })).toEqual([
            { path: "a[1].b", from: 2, to: 3 },
            { path: "a[2]", to: 4 },
            { path: "c", from: "x" },
            { path: "d", to: null },
        ]);
        expect(diffJson({ "a.b": 1 }, { "a.b": 2 })).toEqual([{ path: '["a.b"]', from: 1, to: 2 }]);
    });
});
