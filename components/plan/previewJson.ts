/**
 * The document `pulumi preview --json` prints (Pulumi's PreviewDigest): the fields this project reads, and the
 * one way to accept it parsed or as text.
 */

/** A resource state in `pulumi preview --json` (the fields the digest reads). */
export interface PreviewState {
    urn?: string;
    type?: string;
    id?: string;
    parent?: string;
    inputs?: Record<string, unknown> | null;
    outputs?: Record<string, unknown> | null;
}

/** One step of `pulumi preview --json`. */
export interface PreviewStep {
    op: string;
    urn: string;
    oldState?: PreviewState | null;
    newState?: PreviewState | null;
}

/** One diagnostic (warning, error, info) of `pulumi preview --json`. */
export interface PreviewDiagnostic {
    urn?: string;
    message?: string;
    severity?: string;
}

/** The document `pulumi preview --json` prints (Pulumi's PreviewDigest). */
export interface PreviewJson {
    steps?: PreviewStep[] | null;
    diagnostics?: PreviewDiagnostic[] | null;
    changeSummary?: Record<string, number> | null;
    config?: Record<string, unknown> | null;
}

/** A preview document known to list its steps (what a successful preview prints). */
export type PreviewDocument = PreviewJson & { steps: PreviewStep[] };

/** The preview as a document: text is parsed (a syntax error is thrown as is), a document is returned as it is. */
export function parsePreview(preview: PreviewJson | string): PreviewJson {
    return (typeof preview === "string" ? JSON.parse(preview) : preview) as PreviewJson;
}
