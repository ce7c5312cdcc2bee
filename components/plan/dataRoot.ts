/**
 * Docker's data root under user-namespace remapping: dockerd keeps remapped state in `<data-root>/<uid>.<gid>`
 * (uid and gid being the starts of the remap user's subordinate ranges), so enabling, disabling or moving the
 * remap makes the containers and images of the previous data root invisible (they stay on disk).
 */

/**
 * The data root dockerd uses with userns-remap: `<dataRoot>/<uid>.<gid>` (trailing slashes of `dataRoot`
 * dropped).
 *
 * @param dataRoot - The configured data root (`data-root`, default `/var/lib/docker`), not the remapped one.
 * @param uid - First ID of the remap user's /etc/subuid range.
 * @param gid - First ID of the remap user's /etc/subgid range.
 * @throws RangeError when uid or gid is not a non-negative integer.
 */
export function remappedDataRoot(dataRoot: string, uid: number, gid: number): string {
    for (const id of [uid, gid]) {
        if (!Number.isInteger(id) || id < 0) throw new RangeError(`remappedDataRoot: ${id} is not a subordinate ID`);
    }
    const root = dataRoot.replace(/\/+$/, "");
    return `${root}/${uid}.${gid}`;
}

/** Input of {@link wouldHideExisting}. */
export interface DataRootSwitch {
    /** Containers (all states) in the data root Docker uses now. */
    containers: number;
    /** Images in the data root Docker uses now. */
    images: number;
    /** The data root Docker uses now (as `docker info` reports it: remapped when remapping is active). */
    currentDataRoot: string;
    /** The data root Docker will use after the change (see {@link remappedDataRoot}). */
    nextDataRoot: string;
}

/** Whether a data-root switch hides existing containers or images, and why (or why not), in one sentence. */
export interface HiddenDataVerdict {
    /** True when Docker would switch data roots while the current one holds containers or images. */
    hides: boolean;
    /** The reason, for errors and logs. */
    reason: string;
}

/**
 * Whether switching Docker from `currentDataRoot` to `nextDataRoot` (enabling, disabling or moving userns
 * remapping) would hide existing containers and images from Docker. Only the data root moving matters: the
 * same root, or an empty one, hides nothing.
 */
export function wouldHideExisting(change: DataRootSwitch): HiddenDataVerdict {
    const normalize = (path: string): string => path.replace(/\/+$/, "");
    const from = normalize(change.currentDataRoot);
    const to = normalize(change.nextDataRoot);
    if (from === to) return { hides: false, reason: `the data root stays ${from}` };
    const what = [
        change.containers > 0 ? `${change.containers} container${change.containers === 1 ? "" : "s"}` : "",
        change.images > 0 ? `${change.images} image${change.images === 1 ? "" : "s"}` : "",
    ].filter(Boolean);
    if (what.length === 0) return { hides: false, reason: `the data root moves from ${from} to ${to}, but ${from} holds no containers or images` };
    return {
        hides: true,
        reason: `Docker would switch its data root from ${from} to ${to}: ${what.join(" and ")} in ${from} would no longer be visible to Docker (they stay on disk)`,
    };
}
