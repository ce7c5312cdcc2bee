import { HostInputError } from "../../components/plan/errors";
import { HostOutcome, planBatches, rolloutVerdict } from "../../components/plan/rollout";

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);

describe("planBatches", () => {
    test.each([
        [1, [["h1"]]],
        [3, [["h1"], ["h2"], ["h3"]]],
        [6, [["h1"], ["h2", "h3"], ["h4", "h5"], ["h6"]]],
        [9, [["h1"], ["h2", "h3", "h4"], ["h5", "h6", "h7"], ["h8", "h9"]]],
    ])("default: the canary host alone, then 25%% of %i hosts at a time", (n, expected) => {
        expect(planBatches("fleet", hosts(n))).toEqual(expected);
    });

    test("20 hosts by default: 1, then batches of 5", () => {
        expect(planBatches("fleet", hosts(20)).map((b) => b.length)).toEqual([1, 5, 5, 5, 4]);
    });

    test("explicit sizes, the last one repeating", () => {
        expect(planBatches("fleet", hosts(6), { batches: [2, 3] })).toEqual([["h1", "h2"], ["h3", "h4", "h5"], ["h6"]]);
        expect(planBatches("fleet", hosts(6), { batches: ["100%"] })).toEqual([hosts(6)]);
    });

    test.each([[0], ["0%"], ["ten"], [1.5]])("a batch size of %p is refused naming rollout.batches", (size) => {
        expect(() => planBatches("fleet", hosts(3), { batches: [size] })).toThrow(HostInputError);
        expect(() => planBatches("fleet", hosts(3), { batches: [size] })).toThrow(/rollout\.batches/);
    });

    test("a negative budget is refused naming rollout.maxFailures", () => {
        expect(() => planBatches("fleet", hosts(3), { maxFailures: -1 })).toThrow(/rollout\.maxFailures/);
    });
});

describe("rolloutVerdict", () => {
    const batches = [["h1"], ["h2", "h3"], ["h4"]];
    const all = (o: HostOutcome): Record<string, HostOutcome> => Object.fromEntries(batches.flat().map((h) => [h, o]));

    test("all done: proceed, nothing listed as failed", () => {
        const v = rolloutVerdict(batches, 1, all("done"), 0);
        expect(v.proceed).toBe(true);
        expect(v.done).toEqual(["h1", "h2", "h3"]);
        expect(v.notStarted).toEqual([]);
    });

    test("a failure over the budget halts: done, failed and not started are named", () => {
        const v = rolloutVerdict(batches, 1, { ...all("done"), h3: "failed" }, 0);
        expect(v.proceed).toBe(false);
        expect(v.failed).toEqual(["h3"]);
        expect(v.notStarted).toEqual(["h4"]);
        expect(v.message).toMatch(/Done: h1, h2\. Failed: h3\..*Not started: h4/);
    });

    test("a failure within the budget lets the rollout go on", () => {
        expect(rolloutVerdict(batches, 1, { ...all("done"), h3: "failed" }, 1).proceed).toBe(true);
    });

    test("failures count across the batches rolled so far", () => {
        const outcomes = { ...all("done"), h1: "failed" as HostOutcome, h3: "failed" as HostOutcome };
        expect(rolloutVerdict(batches, 0, outcomes, 1).proceed).toBe(true);
        expect(rolloutVerdict(batches, 1, outcomes, 1).proceed).toBe(false);
    });

    test("unreachable hosts never halt a batch, but the last gate fails naming them", () => {
        const outcomes = { ...all("done"), h2: "unreachable" as HostOutcome };
        expect(rolloutVerdict(batches, 1, outcomes, 0).proceed).toBe(true);
        const last = rolloutVerdict(batches, 2, outcomes, 0);
        expect(last.proceed).toBe(false);
        expect(last.message).toMatch(/fleet not converged: h2 .*unreachable: h2/);
    });

    test("the last gate also fails for failures within the budget (the run must not look converged)", () => {
        expect(rolloutVerdict(batches, 2, { ...all("done"), h4: "failed" }, 1).proceed).toBe(false);
    });
});
