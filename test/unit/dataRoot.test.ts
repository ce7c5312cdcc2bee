import { remappedDataRoot, wouldHideExisting } from "../../components/plan/dataRoot";

describe("remappedDataRoot", () => {
    test("<root>/<uid>.<gid>, without doubled slashes", () => {
        expect(remappedDataRoot("/var/lib/docker", 165536, 165536)).toBe("/var/lib/docker/165536.165536");
        expect(remappedDataRoot("/srv/docker//", 100000, 200000)).toBe("/srv/docker/100000.200000");
    });

    test("refuses IDs that are not subordinate IDs", () => {
        expect(() => remappedDataRoot("/var/lib/docker", -1, 0)).toThrow(RangeError);
        expect(() => remappedDataRoot("/var/lib/docker", 1.5, 0)).toThrow(RangeError);
    });
});

describe("wouldHideExisting", () => {
    test("enabling remap on a host with containers and images hides them, and says so", () => {
        expect(wouldHideExisting({ containers: 2, images: 1, currentDataRoot: "/var/lib/docker", nextDataRoot: "/var/lib/docker/165536.165536" })).toEqual({
            hides: true,
            reason: "Docker would switch its data root from /var/lib/docker to /var/lib/docker/165536.165536: 2 containers and 1 image in /var/lib/docker would no longer be visible to Docker (they stay on disk)",
        });
    });

    test("moving the range while remapped hides too; an empty root or an unchanged one hides nothing", () => {
        expect(wouldHideExisting({ containers: 0, images: 3, currentDataRoot: "/var/lib/docker/100000.100000", nextDataRoot: "/var/lib/docker/165536.165536" }).hides).toBe(true);
        expect(wouldHideExisting({ containers: 0, images: 0, currentDataRoot: "/var/lib/docker", nextDataRoot: "/var/lib/docker/1.1" }).hides).toBe(false);
        expect(wouldHideExisting({ containers: 5, images: 5, currentDataRoot: "/var/lib/docker/1.1/", nextDataRoot: "/var/lib/docker/1.1" })).toEqual({
            hides: false, reason: "the data root stays /var/lib/docker/1.1",
        });
    });
});
