import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";

/**
 * The provider of a step, built in the engine's provider process (see dynamicStep.ts: the resource names this
 * module and the step's compiled implementation by path): it loads the implementation when a method first runs.
 *
 * With `onUnreachable: "skip"` (set by a fleet), an unreachable host never stops the run: its checks and reads
 * keep what the state knows (the step shows no change, and one warning names the host and the cause), and the
 * fleet's last rollout gate reports it as not converged. Creating a step on such a host still fails.
 */
export function lazyProvider(implPath: string, computedKeys: string[] = []): pulumi.dynamic.ResourceProvider {
    // Modules of this folder are shared with the implementation (one preflight cache per process).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loadModule = (file: string) => require(path.join(__dirname, file));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = (): pulumi.dynamic.ResourceProvider => require(implPath).provider;
    // Only where the program asked for it (a fleet does): a single host that cannot be reached fails the run.
    const unreachable = (props: { connection?: unknown; onUnreachable?: string }, e: unknown): string | undefined =>
        props.connection && props.onUnreachable === "skip"
            ? loadModule("preflight").noteUnreachable(props.connection, e)
            : undefined;
    // Outputs travel as protobuf Structs, which have no `undefined`: drop such fields (JSON does exactly that).
    const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
    const withoutMark = (inputs: Record<string, unknown>) => {
        const { unreachable: _mark, ...rest } = inputs;
        return rest;
    };
    // Which machine a step's connection now reaches (plan/machineIdentity.ts); the host is read only when the
    // pinned key alone cannot tell (from the run's shared preflight).
    const machineChange = async (olds: Record<string, unknown>, news: Record<string, unknown>): Promise<string> => {
        if (!olds.connection || !news.connection) return "same-target";
        const plan = loadModule("../plan/machineIdentity");
        const before = { connection: olds.connection, recorded: olds.machine };
        const decide = (current?: unknown) => plan.planMachineChange(before, { connection: news.connection, current });
        const first = decide();
        if (first !== "need-identity") return first;
        const { facts } = await loadModule("preflight").preflight(news.connection);
        return decide(plan.machineIdentity(facts.machineId ?? "", (news.connection as { hostKey?: unknown }).hostKey));
    };
    // Every step's state names the machine it describes; providers that read the host add its machine-id.
    const withMachine = <R extends { outs?: Record<string, unknown> }>(r: R): R => {
        const outs = r.outs;
        if (!outs?.connection || outs.machine) return r;
        const hostKey = (outs.connection as { hostKey?: unknown }).hostKey;
        return { ...r, outs: { ...outs, machine: loadModule("../plan/machineIdentity").machineIdentity("", hostKey) } };
    };
    return {
        // Bad input found by a check becomes a check failure: the CLI shows the message (host, field, fix) plainly.
        check: async (olds, news) => {
            const p = load();
            try {
                return plain(p.check ? await p.check(olds, news) : { inputs: news });
            } catch (e) {
                const cause = unreachable(news, e);
                if (cause) return plain({ inputs: { ...news, unreachable: cause } });
                const err = e as Error & { field?: string };
                if (!err.field) throw e;
                // No property name: the engine would print that input's value, and the connection holds the key.
                return { inputs: news, failures: [{ property: "", reason: err.message }] };
            }
        },
        diff: async (id, olds, news) => {
            if (news.unreachable) return { changes: false };
            // A step whose check does not read the host learns here (from the run's shared preflight) that the
            // host is out of reach, so no update is planned that could only fail.
            if (news.onUnreachable === "skip" && news.connection) {
                try {
                    await loadModule("preflight").preflight(news.connection);
                } catch (e) {
                    if (unreachable(news, e)) return { changes: false };
                }
            }
            const p = load();
            // Another machine is a replace: the new machine is hardened, then the old one given back from its own
            // state and record (create before delete: the engine can deadlock deleting a chain of steps first).
            const moved = await machineChange(olds, news);
            if (moved === "other-machine") {
                return { changes: true, replaces: ["connection"], deleteBeforeReplace: false };
            }
            const found = p.diff ? await p.diff(id, olds, news) : {};
            // The same machine reached another way: an update, so the state keeps the new connection.
            return moved === "same-machine" && !found.changes ? { ...found, changes: true } : found;
        },
        create: async (inputs) => plain(withMachine(await load().create(withoutMark(inputs)))),
        // What `read` finds on the host becomes the inputs too (computed fields aside), so after a refresh the
        // next preview shows the repair key by key.
        read: async (id, props) => {
            const p = load();
            let found: pulumi.dynamic.ReadResult;
            try {
                found = p.read ? await p.read(id, props) : { id, props };
            } catch (e) {
                if (!props || !unreachable(props, e)) throw e;
                found = { id, props };
            }
            const input = ([k]: [string, unknown]) => !computedKeys.includes(k) && k !== "machine";
            const inputs = found.props ? Object.fromEntries(Object.entries(found.props).filter(input)) : undefined;
            return plain({ ...found, inputs });
        },
        update: async (id, olds, news) => {
            const p = load();
            const updated = p.update ? await p.update(id, olds, withoutMark(news)) : { outs: withoutMark(news) };
            return plain(withMachine(updated));
        },
        delete: (id, props) => {
            const p = load();
            return p.delete ? p.delete(id, props) : Promise.resolve();
        },
    };
}
