import { asRecord, isRecord } from "../../components/plan/record";

describe("record", () => {
    test("plain objects only: not null, not arrays", () => {
        expect([{}, [], null, "x"].map(isRecord)).toEqual([true, false, false, false]);
        expect(asRecord([1])).toEqual({});
        expect(asRecord({ a: 1 })).toEqual({ a: 1 });
    });
});
