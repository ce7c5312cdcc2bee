import { codeSpan, fenceFor, hostCount, markdownText, nameList } from "../../components/plan/markdownText";

describe("Markdown text", () => {
    test("prose on one line, without emphasis, links or HTML by accident", () => {
        expect(markdownText(" a *b*\n[c](d) <e> & f_g ")).toBe("a \\*b\\* \\[c\\](d) &lt;e&gt; &amp; f\\_g");
    });

    test("code spans and fences longer than the backticks they hold", () => {
        expect(codeSpan("x")).toBe("`x`");
        expect(codeSpan("a `b` c")).toBe("`` a `b` c ``");
        expect(codeSpan("a\nb")).toBe("`a⏎b`");
        expect(fenceFor(["x"])).toBe("```");
        expect(fenceFor(["````"])).toBe("`````");
    });

    test("lists of names cut with a count, and host counts", () => {
        expect(nameList(["a", "b", "c"], 2)).toBe("a, b, … and 1 more");
        expect(nameList(["a", "b"], 2)).toBe("a, b");
        expect([hostCount(1), hostCount(2)]).toEqual(["1 host", "2 hosts"]);
    });
});
