import * as pulumi from "@pulumi/pulumi";
import { diffDaemonConfig } from "../plan/stepDiffs";
import { evaluateCisDaemon } from "../plan/cis";
import { checkRemapRemoval } from "../plan/authorization";
import { MachineIdentity, machineIdentity } from "../plan/machineIdentity";
import { checkNetworkExposure } from "../plan/daemonExposure";
import { HostInputError } from "../plan/errors";
import {
    JsonObject,
    JsonValue,
    canonicalJson,
    DaemonJsonRecord,
    checkDataRootMove,
    checkOwnedKeys,
    daemonJsonToRestore,
    desiredDaemonConfig,
    dockerActionWording,
    planDaemonConfigApply,
    ownedDaemonSettings,
    planDaemonConfigRemoval,
    restartNeeded,
    sha256Hex,
    validateDaemonConfig,
} from "../plan/daemonConfig";
import { RECORD_DIR, b64, dockerFunctions, recordScript, removeFilesScript } from "../host/dockerd";
import { HostFacts } from "../host/probe";
import { Preflight, change, preflight } from "./preflight";
import { SshTarget, targetLabel } from "../ssh/target";

/** Inputs and state of DaemonConfig (the resource class is in hostResources.ts). */
export interface DaemonConfigState {
    connection: SshTarget;
    /** The daemon.json keys this resource owns, with their desired values (never `authorization-plugins`). */
    settings: JsonObject;
    /** Command that restarts Docker; none = the host's init system. */
    restartCommand?: string;
    /** Allow enabling or changing userns-remap on a host with containers or images (they are hidden by it). */
    allowDataRootMove: boolean;
    /** What the next change does to Docker (shown by `pulumi preview --diff`): restart, reload or nothing. */
    dockerAction?: string;
    /** The values our keys had before we first set them (null: absent), restored on destroy. */
    previous: Record<string, JsonValue>;
    /**
     * SHA-256 of the host's daemon.json in canonical form, without `authorization-plugins` (the Authorization
     * step sets that key last, so leaving it out keeps this hash stable between runs).
     */
    sha256: string;
    dockerVersion: string;
    /** Docker's data root now (under userns-remap: `<root>/<uid>.<gid>`). */
    dataRoot: string;
    initSystem: string;
    /** Docker restarts done by the last change of this resource. */
    restarts: number;
    /** The host's daemon.json before we first changed it (null: there was none), restored verbatim on destroy. */
    original: string | null;
    /** The machine this state describes: destroy gives back what it recorded only there (plan/machineIdentity.ts). */
    machine?: MachineIdentity;
    /** CIS Docker Benchmark section 2 (daemon) results, as `read` (refresh) last found them (titles: plan/cis.ts). */
    cis?: { id: string; status: string; detail: string }[];
}

/** The CIS section 2 results for what the host reports. */
function cisResults(facts: HostFacts, current: JsonObject): { id: string; status: string; detail: string }[] {
    const rows = evaluateCisDaemon({
        dockerVersion: facts.dockerVersion,
        info: facts.dockerInfo,
        daemonJson: current,
        socket: facts.socket,
    });
    return rows.map(({ id, status, detail }) => ({ id, status, detail }));
}

async function probe(connection: SshTarget, fresh: boolean): Promise<Preflight> {
    const found = await preflight(connection, { fresh });
    const { facts } = found;
    if (!facts.dockerVersion && !facts.apiRefused) {
        throw new HostInputError(
            targetLabel(connection),
            "connection",
            "Docker does not answer on this host (docker version failed)",
            "install and start Docker on the host before hardening it",
        );
    }
    return found;
}

/** See {@link DaemonConfigState.sha256}. */
function configSha256(config: JsonObject): string {
    const { ["authorization-plugins"]: _enforced, ...rest } = config;
    return sha256Hex(canonicalJson(rest));
}

async function converge(news: DaemonConfigState, olds?: DaemonConfigState): Promise<DaemonConfigState> {
    const host = targetLabel(news.connection);
    const { facts, current } = await probe(news.connection, true);
    // A run that failed after changing the host left a record: what was there before us is in it, not in the file.
    const record =
        !olds && facts.daemonJsonRecord ? (JSON.parse(facts.daemonJsonRecord) as DaemonJsonRecord) : undefined;
    const { desired, previous, original } = planDaemonConfigApply({
        current,
        currentText: facts.daemonJson,
        settings: news.settings,
        last: olds,
        record,
    });
    checkDataRootMove(host, facts, current, desired, news.allowDataRootMove);
    return apply(
        { ...news, original, dataRoot: olds?.dataRoot ?? "" },
        facts,
        current,
        desired,
        canonicalJson(desired),
        previous,
    );
}

/** Writes `text` as daemon.json (null: remove the file) and restarts or reloads Docker as the change needs. */
async function apply(
    state: DaemonConfigState,
    facts: HostFacts,
    current: JsonObject,
    desired: JsonObject,
    text: string | null,
    previous: Record<string, JsonValue>,
): Promise<DaemonConfigState> {
    const sha256 = text === null ? sha256Hex("") : configSha256(desired);
    const base = {
        ...state,
        previous,
        sha256,
        dockerVersion: facts.dockerVersion || state.dockerVersion,
        initSystem: facts.initSystem,
        dockerAction: undefined,
        machine: machineIdentity(facts.machineId ?? "", state.connection.hostKey),
    };
    if ((facts.daemonJson ?? null) === text || (text !== null && canonicalJson(current) === text))
        return { ...base, dataRoot: facts.dataRoot || state.dataRoot, restarts: 0 };
    const action = restartNeeded(current, desired) ? "restart" : "reload";
    await change(
        state.connection,
        [
            dockerFunctions(state.restartCommand),
            text === null ? `hdh_apply_daemon_json - ${action}` : `hdh_apply_daemon_json ${b64(text)} ${action}`,
            text === null
                ? removeFilesScript(`${RECORD_DIR}/daemon-json.json`)
                : recordScript("daemon-json", {
                      keys: Object.keys(state.settings).sort(),
                      previous,
                      original: state.original,
                      sha256,
                      action,
                      at: new Date().toISOString(),
                  }),
        ].join("\n"),
        `applying daemon.json (${action})`,
    );
    // The change read the host back (a restart moves the data root under userns-remap).
    const after = await preflight(state.connection).catch(() => undefined);
    return {
        ...base,
        dataRoot: after?.facts.dataRoot || facts.dataRoot || state.dataRoot,
        restarts: action === "restart" ? 1 : 0,
    };
}

/** Implementation of DaemonConfig (loaded by its lazy provider). */
export const provider: pulumi.dynamic.ResourceProvider<DaemonConfigState, DaemonConfigState> = {
    async check(olds, news) {
        const host = targetLabel(news.connection);
        validateDaemonConfig(host, news.settings, "daemonConfig");
        checkOwnedKeys(host, news.settings);
        // The preflight, at preview: what the host has now decides what happens to Docker, and refuses a remap
        // that would hide existing containers and images before anything changes.
        const { facts, current } = await probe(news.connection, false);
        const desired = desiredDaemonConfig(current, news.settings);
        checkNetworkExposure(host, news.settings, desired);
        checkDataRootMove(host, facts, current, desired, news.allowDataRootMove);
        // Shown only when something will happen, so an unchanged host reads back exactly as it was planned.
        const dockerAction = dockerActionWording(current, desired);
        return { inputs: { ...news, dockerAction } };
    },
    async diff(_id, olds, news) {
        return diffDaemonConfig(olds, news);
    },
    async create(inputs) {
        return { id: `${targetLabel(inputs.connection)}:/etc/docker/daemon.json`, outs: await converge(inputs) };
    },
    async update(_id, olds, news) {
        return { outs: await converge(news, olds) };
    },
    async read(id, props) {
        if (!props) throw new Error(`DaemonConfig ${id}: cannot import without its connection`);
        const { facts, current } = await preflight(props.connection);
        const settings = ownedDaemonSettings(current, props.settings);
        const state = {
            ...props,
            settings,
            sha256: configSha256(current),
            dataRoot: facts.dataRoot || props.dataRoot,
            dockerVersion: facts.dockerVersion || props.dockerVersion,
            cis: cisResults(facts, current),
        };
        return { id, props: state };
    },
    async delete(_id, props) {
        const host = targetLabel(props.connection);
        const { facts, current } = await preflight(props.connection, { fresh: true });
        // Our keys go back to what they were before us, entry by entry for objects; a key edited by hand since
        // (unless a refresh took the edit into the state) is left as the operator made it.
        const restored = planDaemonConfigRemoval({ current, applied: props.settings, previous: props.previous }).config;
        // Remapping turned off under running containers would release IDs they still run as.
        const remapOff = (current["userns-remap"] ?? null) !== (restored["userns-remap"] ?? null);
        if (remapOff) checkRemapRemoval(host, facts, props.allowDataRootMove);
        // Nothing else changed since we came: put back the operator's own file, byte for byte (or no file).
        await apply(props, facts, current, restored, daemonJsonToRestore(host, props.original, restored), {});
    },
};
