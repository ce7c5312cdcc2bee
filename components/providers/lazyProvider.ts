import * as pulumi from "@pulumi/pulumi";

/**
 * A dynamic provider whose methods load their implementation when they run.
 *
 * Pulumi serializes a dynamic provider's functions into the state. Serializing our SSH code and its imports by
 * value is fragile and bloats the state, so the serialized functions only hold the implementation module's
 * path: the absolute one of the program that wrote the state, and, when the project has moved since (a fresh
 * clone running `pulumi destroy`), the same path relative to the provider's working directory (the project).
 *
 * With `onUnreachable: "skip"` (set by a fleet), an unreachable host never stops the run: its checks and reads
 * keep what the state knows (the step shows no change, and one warning names the host and the cause), and the
 * fleet's last rollout gate reports it as not converged. Creating a step on such a host still fails.
 */
export function lazyProvider(implAbsolutePath: string, implProjectPath: string, computedKeys: string[] = []): pulumi.dynamic.ResourceProvider {
    const loadModule = (file: string) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const nodePath = require("path");
        const absolute = nodePath.join(nodePath.dirname(implAbsolutePath), file);
        try {
            return require(require.resolve(absolute));
        } catch {
            return require(require.resolve(nodePath.resolve(process.cwd(), nodePath.dirname(implProjectPath), file)));
        }
    };
    const load = (): pulumi.dynamic.ResourceProvider => loadModule(require("path").basename(implAbsolutePath)).provider;
    // Only where the program asked for it (a fleet does): a single host that cannot be reached fails the run.
    const unreachable = (props: { connection?: unknown; onUnreachable?: string }, e: unknown): string | undefined =>
        props.connection && props.onUnreachable === "skip" ? loadModule("preflight").noteUnreachable(props.connection, e) : undefined;
    // Outputs travel as protobuf Structs, which have no `undefined`: drop such fields (JSON does exactly that).
    const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
    const withoutMark = (inputs: Record<string, unknown>) => {
        const { unreachable: _mark, ...rest } = inputs;
        return rest;
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
            return p.diff ? p.diff(id, olds, news) : {};
        },
        create: async (inputs) => plain(await load().create(withoutMark(inputs))),
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
            const inputs = found.props ? Object.fromEntries(Object.entries(found.props).filter(([k]) => !computedKeys.includes(k))) : undefined;
            return plain({ ...found, inputs });
        },
        update: async (id, olds, news) => {
            const p = load();
            return plain(p.update ? await p.update(id, olds, withoutMark(news)) : { outs: withoutMark(news) });
        },
        delete: (id, props) => { const p = load(); return p.delete ? p.delete(id, props) : Promise.resolve(); },
    };
}
