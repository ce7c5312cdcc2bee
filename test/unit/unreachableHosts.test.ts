import { unreachableFromDiagnostic } from "../../components/plan/unreachableHosts";

describe("unreachableFromDiagnostic", () => {
    test("a connection cause, with or without preflight's ending, on one line and without the ending", () => {
        expect(
            unreachableFromDiagnostic(
                "warning: host h5: connection.host: cannot connect\n  to 127.0.0.1:2225." +
                    " Fix: start sshd (this host is skipped; the others go on)\n",
            ),
        ).toEqual({ host: "h5", cause: "connection.host: cannot connect to 127.0.0.1:2225. Fix: start sshd" });
        expect(unreachableFromDiagnostic("host h6: jumpHost.user: refused. Fix: x")).toEqual({
            host: "h6",
            cause: "jumpHost.user: refused. Fix: x",
        });
    });

    test("any cause preflight skipped the host for, and labels that are addresses", () => {
        expect(
            unreachableFromDiagnostic(
                "warning: host 10.0.3.12:22: sudo: a password is required" +
                    " (this host is skipped; the others go on)",
            ),
        ).toEqual({ host: "10.0.3.12:22", cause: "sudo: a password is required" });
    });

    test("not a host that cannot be reached: a config mistake, another warning", () => {
        expect(unreachableFromDiagnostic('error: host h1: userns.user: "0x" is not a valid user name')).toBeUndefined();
        expect(unreachableFromDiagnostic("warning: using pulumi-language-nodejs from $PATH")).toBeUndefined();
    });
});
