import * as pulumi from "@pulumi/pulumi";

/**
 * The one way components report bad input: a `ResourceError` on the component, with the planner's one-line
 * message (host, field, problem, fix) and no stack trace, since the cause is the input, not our code.
 */
export function inputError(resource: pulumi.Resource, err: unknown): pulumi.ResourceError {
    const message = err instanceof Error ? err.message : String(err);
    return new pulumi.ResourceError(message, resource, true);
}

/** Runs `fn`, turning what it throws into an {@link inputError} on `resource`. */
export function checked<T>(resource: pulumi.Resource, fn: () => T): T {
    try {
        return fn();
    } catch (e) {
        throw inputError(resource, e);
    }
}
