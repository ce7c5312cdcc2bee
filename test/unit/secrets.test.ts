import { scrubText, secretVariants, secretsFromEnvironment } from "../../components/plan/secrets";

describe("secrets", () => {
    const key = [
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
        "QyNTUxOQAAACBLkGZ0dcA6W0cQ6cIqvJAbcdEfGh1JkLmNoPqRsTuVwXyZAAAAmJ3k5CGd5O",
        "-----END OPENSSH PRIVATE" + " KEY-----",
        "",
    ].join("\n");

    test("a private key's body lines and the body joined are variants; armour lines are not", () => {
        const variants = secretVariants(key);
        expect(variants).toContain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW");
        expect(variants).toContain(
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW" +
                "QyNTUxOQAAACBLkGZ0dcA6W0cQ6cIqvJAbcdEfGh1JkLmNoPqRsTuVwXyZAAAAmJ3k5CGd5O",
        );
        expect(variants).not.toContain("-----BEGIN OPENSSH PRIVATE KEY-----");
        expect(
            scrubText(
                `log: ${JSON.stringify(key)} and` +
                    ` QyNTUxOQAAACBLkGZ0dcA6W0cQ6cIqvJAbcdEfGh1JkLmNoPqRsTuVwXyZAAAAmJ3k5CGd5O`,
                [key],
            ),
        ).not.toMatch(/b3BlbnNzaC1rZXkt|QyNTUxOQ/);
    });

    test("from the environment: passphrase (variable or file, trimmed), key files, a list, backend password", () => {
        const files: Record<string, string> = { "/pass": "  file-passphrase \n", "/key": key };
        const read = (p: string) => {
            if (!(p in files)) throw new Error("ENOENT");
            return files[p];
        };
        const found = secretsFromEnvironment(
            {
                PULUMI_CONFIG_PASSPHRASE: "env-passphrase",
                PULUMI_CONFIG_PASSPHRASE_FILE: "/pass",
                HDH_SECRET_FILES: "/key:/missing",
                HDH_SECRETS_TO_SCRUB: "extra-one\nab\n",
                PULUMI_BACKEND_URL: "postgres://hdh:s3cr%21t@127.0.0.1:5432/db",
            },
            read,
        );
        expect(found.secrets).toEqual(
            expect.arrayContaining(["env-passphrase", "file-passphrase", key, "extra-one", "s3cr%21t", "s3cr!t"]),
        );
        expect(found.unreadable).toEqual(["/missing"]);
        expect(found.tooShort).toEqual(["HDH_SECRETS_TO_SCRUB"]);
    });
});
