import { fleetDigest } from "../../components/plan/digest";
import { explainFingerprintChange } from "../../components/plan/fingerprint";
import type { PreviewJson, PreviewStep } from "../../components/plan/previewJson";
import { edited, fixture, name, preview, settingsOf, stepsOf } from "./previewFixtures";

describe("the fingerprint", () => {
    const reviewed = fleetDigest(fixture());

    test("is stable across two previews of the same plan: step order, timestamps, providers, key order", () => {
        const again = edited((p: PreviewJson & { duration?: number }) => {
            const steps = p.steps as PreviewStep[];
            const stack = steps.findIndex((s) => s.op === "same");
            const refresh = steps.slice(0, stack).reverse();
            const program = [steps[stack], ...steps.slice(stack + 1).reverse()];
            p.steps = [...refresh, ...program].map((s) => {
                const copy = JSON.parse(JSON.stringify(s)) as PreviewStep & { oldState?: Record<string, unknown> };
                for (const state of [copy.oldState, copy.newState] as Record<string, unknown>[]) {
                    if (!state) continue;
                    state.modified = "2030-01-01T00:00:00Z";
                    const inputs = state.inputs as Record<string, unknown> | undefined;
                    if (inputs) {
                        if ("__provider" in inputs) inputs.__provider = "another serialized provider";
                        state.inputs = Object.fromEntries(Object.entries(inputs).reverse());
                    }
                }
                return copy;
            });
            p.diagnostics = [...(p.diagnostics ?? [])].reverse();
            p.duration = 1;
        });
        expect(fleetDigest(again).fingerprint).toBe(reviewed.fingerprint);
        expect(explainFingerprintChange(reviewed.changes, fleetDigest(again).changes)).toEqual([]);
    });

    test("changes when a host drifted after the review, and says which host and key", () => {
        // h1's icc was set to true by hand: refresh reads it, the plan now also puts it back.
        const fresh = edited((p) => {
            for (const s of stepsOf(p, "h1-daemon", "update")) {
                settingsOf(s, "oldState").icc = true;
                (s.newState?.inputs as Record<string, unknown>).dockerAction = "restart dockerd";
            }
        });
        const d = fleetDigest(fresh);
        expect(d.fingerprint).not.toBe(reviewed.fingerprint);
        const lines = explainFingerprintChange(reviewed.changes, d.changes);
        expect(lines).toContainEqual(
            "h1 drifted since the review (changed on the host, found by refresh):" +
                " daemon.json `icc` `false` → `true`",
        );
        expect(lines.join("\n")).toMatch(/h1: Docker `reload dockerd \(SIGHUP\)` at the review, now `restart dockerd`/);
    });

    test("changes with a config change, said once for the hosts it concerns", () => {
        const fresh = edited((p) => {
            for (const s of (p.steps ?? []).filter((x) => x.op === "update" && name(x).endsWith("-daemon"))) {
                settingsOf(s, "newState")["max-concurrent-downloads"] = 6;
            }
        });
        const d = fleetDigest(fresh);
        expect(d.fingerprint).not.toBe(reviewed.fingerprint);
        expect(explainFingerprintChange(reviewed.changes, d.changes)).toEqual([
            "config changed since the review on h1, h2, h3, h4, h6: daemon.json `max-concurrent-downloads`: planned" +
                " `5` at the review, now `6`",
        ]);
    });

    test("changes when a host became unreachable, and when it is back", () => {
        const fresh = edited((p) => {
            p.steps = (p.steps ?? []).filter((s) => s.op === "refresh" || !/::h4(-|$)/.test(s.urn));
            p.diagnostics = [
                ...(p.diagnostics ?? []),
                {
                    severity: "warning",
                    message:
                        "warning: host h4: connection.host: cannot connect to 127.0.0.1:2224 (timeout). Fix: check" +
                        " sshd (this host is skipped; the others go on)\n",
                },
            ];
        });
        const d = fleetDigest(fresh);
        expect(d.fingerprint).not.toBe(reviewed.fingerprint);
        expect(explainFingerprintChange(reviewed.changes, d.changes)).toEqual([
            "h4 became unreachable since the review: connection.host: cannot connect to 127.0.0.1:2224 (timeout)." +
                " Fix: check sshd",
        ]);
        expect(explainFingerprintChange(d.changes, reviewed.changes)).toEqual([
            "h4 was unreachable at the review and is reachable now: its changes were not reviewed",
        ]);
    });

    test("a review that planned nothing, then a hand edit: only the drift is named", () => {
        const before = fleetDigest(preview({ c1: { read: { icc: false } }, c2: { read: { icc: false } } }));
        const after = fleetDigest(
            preview({
                c1: { read: { icc: false } },
                c2: { stored: { icc: false }, read: { icc: true }, planned: { icc: false }, action: "restart dockerd" },
            }),
        );
        expect(after.fingerprint).not.toBe(before.fingerprint);
        expect(explainFingerprintChange(before.changes, after.changes)).toEqual([
            "c2 drifted since the review (changed on the host, found by refresh): daemon.json `icc` `false` → `true`",
        ]);
    });

    test("ignores connections and secrets: a new key in the connection is not a plan change", () => {
        const fresh = edited((p) => {
            for (const s of p.steps ?? []) {
                const inputs = s.newState?.inputs as Record<string, unknown> | undefined;
                if (inputs && "connection" in inputs)
                    inputs.connection = { privateKey: "-----BEGIN OPENSSH PRIVATE" + " KEY-----\nb3Blb...\n" };
            }
        });
        expect(fleetDigest(fresh).fingerprint).toBe(reviewed.fingerprint);
    });
});
