import { checkNetworkExposure } from "../../components/plan/daemonExposure";

describe("checkNetworkExposure", () => {
    const tls = { tlsverify: true, tlscacert: "/etc/docker/tls/ca.pem" };

    test.each([
        ["a tcp listener", ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"]],
        ["a listener without a scheme", [":2375"]],
        ["an ssh-less host address", ["10.0.0.5:2376"]],
    ])("refuses %s without TLS client verification, naming the field and the fix", (_, hosts) => {
        expect(() => checkNetworkExposure("h1", { hosts }, { hosts })).toThrow(
            new RegExp(
                /^host h1: daemonConfig\.hosts: ".+" listens on the network without TLS client verification/.source +
                    /.*\. Fix: set daemonConfig\.tlsverify: true/.source,
            ),
        );
    });

    test("refuses tls without verification (tls: true only encrypts)", () => {
        const hosts = ["tcp://127.0.0.1:2376"];
        expect(() => checkNetworkExposure("h1", { hosts, tls: true }, { hosts, tls: true })).toThrow(
            /daemonConfig\.hosts/,
        );
    });

    test.each([
        ["local sockets only", { hosts: ["unix:///var/run/docker.sock", "fd://"] }, {}],
        ["tcp with tlsverify we set", { hosts: ["tcp://127.0.0.1:2376"], ...tls }, {}],
        ["tcp with tlsverify already on the host", { hosts: ["tcp://127.0.0.1:2376"] }, tls],
        ["no hosts key", { icc: false }, {}],
    ])("accepts %s", (_, managed, onHost) => {
        expect(() => checkNetworkExposure("h1", managed, { ...onHost, ...managed })).not.toThrow();
    });

    test("leaves the operator's own listeners alone (only what we write is checked)", () => {
        expect(() =>
            checkNetworkExposure("h1", { icc: false }, { hosts: ["tcp://0.0.0.0:2375"], icc: false }),
        ).not.toThrow();
    });
});
