import { splitLines } from "../../components/plan/lines";

describe("splitLines", () => {
    test("no terminators, no extra line for a final newline, none for an empty text, CRLF too", () => {
        expect(splitLines("")).toEqual([]);
        expect(splitLines("a\n\nb\n")).toEqual(["a", "", "b"]);
        expect(splitLines("a\r\nb")).toEqual(["a", "b"]);
        expect(splitLines("\n")).toEqual([""]);
    });
});
