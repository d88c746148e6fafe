import Foundation
import Testing

/// The deployment files checked by real tools that run offline (installed by
/// scripts/setup-checks.sh): Docker Compose v2 and the compose-spec schema for docker-compose.yml,
/// hadolint for the Dockerfiles, mosquitto itself for its configuration, PostgreSQL for the init
/// script, the bundle builder for the Superset sources; plus what no tool checks (paths exist, the
/// services' environment names are their options). Each check also rejects a broken copy.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DeployTests {
    static let root = Paths.repository

    static func tool(_ name: String) throws -> String {
        let path = root.appendingPathComponent(".tools/bin/\(name)").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("\(path) missing: run scripts/setup-checks.sh (make test does)")
        }
        return path
    }

    static func file(_ relative: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }

    /// `text` with `original` replaced; records an issue when the mutation no longer applies (the
    /// file changed under the test), so a broken-copy test never checks an unbroken copy.
    static func mutated(_ text: String, _ original: String, _ replacement: String) -> String {
        #expect(text.contains(original), "mutation no longer applies: \(original)")
        return text.replacingOccurrences(of: original, with: replacement)
    }

    /// A scratch folder removed by the caller.
    static func scratch() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chirp-deploy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// `docker compose config` on a compose text, resolved against the repository (build contexts,
    /// bind mounts and env files are relative to it), every profile, .env.example as the .env.
    static func composeConfig(_ text: String, json: Bool = false, overlays: [String] = []) throws -> (status: Int32, output: String) {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("compose.yml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var arguments = ["-f", path] + overlays.flatMap { ["-f", root.appendingPathComponent($0).path] }
        arguments += ["--project-directory", root.path, "--env-file", root.appendingPathComponent(".env.example").path,
                      "--profile", "*", "config"]
        arguments += json ? ["--format", "json"] : ["-q"]
        return try run(try tool("docker-compose"), arguments)
    }

    // MARK: docker-compose.yml

    @Test func composeFileIsValidWithEveryProfile() throws {
        let result = try Self.composeConfig(try Self.file("docker-compose.yml"))
        #expect(result.status == 0, "\(result.output)")
        let schema = try run(try Self.tool("check-jsonschema"), ["--builtin-schema", "vendor.compose-spec", Self.root.appendingPathComponent("docker-compose.yml").path])
        #expect(schema.status == 0, "\(schema.output)")
    }

    /// What each container may do and reach: the Chirpstream containers run without capabilities
    /// on a read-only root, every container gains nothing through exec, each joins only the
    /// networks of what it talks to, and only Superset (and the opt-in profiles' UIs) publish a
    /// port unless deploy/compose.ports.yml is added, which publishes the rest on loopback.
    @Test func composeKeepsEachContainerToItsPart() throws {
        func services(_ overlays: [String]) throws -> [String: [String: Any]] {
            let result = try Self.composeConfig(try Self.file("docker-compose.yml"), json: true, overlays: overlays)
            try #require(result.status == 0, "\(result.output)")
            let config = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            return try #require(config["services"] as? [String: [String: Any]])
        }
        let plain = try services([])
        for (name, service) in plain {
            #expect((service["security_opt"] as? [String])?.contains("no-new-privileges:true") == true, "\(name) may gain privileges through exec")
            #expect(!((service["networks"] as? [String: Any]) ?? [:]).isEmpty || service["network_mode"] as? String == "none",
                    "\(name) joins no network of its own")
            #expect(service["ports"] == nil || name == "superset", "\(name) publishes a port by default")
            // Only the servers (and the certificate maker) see the volume with the servers' keys.
            let volumes = (service["volumes"] as? [[String: Any]] ?? []).compactMap { $0["source"] as? String }
            #expect(!volumes.contains("tls") || ["mosquitto", "postgres", "kafka", "tls-setup"].contains(name), "\(name) can read the servers' keys")
        }
        for name in ["bridge", "categorizer", "loader", "sender", "migrate", "postgres-setup", "tls-setup", "mosquitto"] {
            let service = try #require(plain[name])
            #expect(service["cap_drop"] as? [String] == ["ALL"] && service["read_only"] as? Bool == true, "\(name) is not hardened")
        }
        // The certificate maker alone runs as root, with no network and only the rights to hand
        // each key to its server's user.
        #expect(plain["tls-setup"]?["network_mode"] as? String == "none")
        #expect(Set(plain["tls-setup"]?["cap_add"] as? [String] ?? []) == ["CHOWN", "DAC_OVERRIDE"])
        // The servers run as their images' users, without capabilities.
        for (name, user) in [("mosquitto", "1883:1883"), ("postgres", "999:999")] {
            #expect(plain[name]?["user"] as? String == user && plain[name]?["cap_drop"] as? [String] == ["ALL"], "\(name) runs as root or with capabilities")
        }
        for name in ["bridge", "categorizer", "loader"] {
            #expect(plain[name]?["mem_limit"] != nil && plain[name]?["pids_limit"] != nil, "\(name) has no limits")
        }
        let expectedNetworks: [String: Set<String>] = [
            "mosquitto": ["ingest"], "sender": ["ingest"], "bridge": ["ingest", "stream"], "kafka": ["stream"], "categorizer": ["stream"],
            "loader": ["stream", "storage"], "postgres": ["storage"], "migrate": ["storage"], "superset": ["storage", "dashboard"],
        ]
        for (name, networks) in expectedNetworks {
            #expect(Set(((plain[name]?["networks"] as? [String: Any]) ?? [:]).keys) == networks, "\(name)'s networks")
        }
        let published = try services(["deploy/compose.ports.yml"])
        for name in ["mosquitto", "kafka", "postgres", "bridge", "categorizer", "loader", "druid-router", "kafka-connect"] {
            let ports = try #require(published[name]?["ports"] as? [[String: Any]], "\(name) is not published by the overlay")
            #expect(ports.allSatisfy { $0["host_ip"] as? String == "127.0.0.1" }, "\(name) publishes beyond loopback")
        }
    }

    /// Each mutation breaks the file the way an edit could; Compose must refuse it, naming the problem.
    @Test(arguments: [
        ("condition: service_healthy", "condition: service_happy", "condition value must be one of"),
        ("      kafka-init:\n        condition: service_completed_successfully\n\n  categorizer:", "      kafka-initt:\n        condition: service_completed_successfully\n\n  categorizer:", "kafka-initt"),
        ("  interval: 5s", "  interval: 5 seconds", "interval"),
        ("  kafka-init:\n    image:", "  kafka-init:\n    imag: kafka\n    image:", "additional properties 'imag' not allowed"),
        ("  postgres-data:\n", "", "postgres-data"),
    ])
    func brokenComposeIsRejected(original: String, replacement: String, mentioned: String) throws {
        let result = try Self.composeConfig(Self.mutated(try Self.file("docker-compose.yml"), original, replacement))
        #expect(result.status != 0, "compose accepted a file with \(mentioned)")
        #expect(result.output.contains(mentioned), "\(result.output)")
    }

    @Test func brokenComposeFailsTheSchema() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("docker-compose.yml").path
        try Self.file("docker-compose.yml").replacingOccurrences(of: "    restart: \"no\"\n    entrypoint:", with: "    restart: \"no\"\n    entrypoint: 7\n    entrypoints:")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let schema = try run(try Self.tool("check-jsonschema"), ["--builtin-schema", "vendor.compose-spec", path])
        #expect(schema.status != 0)
        #expect(schema.output.contains("entrypoints"), "\(schema.output)")
    }

    /// What no tool checks: files the compose file points at exist, every Chirpstream service gets
    /// only environment variables its `--help` documents, its healthcheck is its own `healthcheck`
    /// subcommand on its HTTP_PORT, and it starts only after what it needs is healthy.
    @Test func composeWiresTheServicesAsTheyAreConfigured() throws {
        let result = try Self.composeConfig(try Self.file("docker-compose.yml"), json: true)
        #expect(result.status == 0, "\(result.output)")
        let config = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let services = try #require(config["services"] as? [String: [String: Any]])

        for (name, service) in services {
            if let build = service["build"] as? [String: Any] {
                let context = try #require(build["context"] as? String)
                let dockerfile = (build["dockerfile"] as? String) ?? "Dockerfile"
                let path = dockerfile.hasPrefix("/") ? dockerfile : URL(fileURLWithPath: context).appendingPathComponent(dockerfile).path
                #expect(FileManager.default.fileExists(atPath: path), "\(name): \(path) missing")
            }
            for volume in service["volumes"] as? [[String: Any]] ?? [] where volume["type"] as? String == "bind" {
                let source = try #require(volume["source"] as? String)
                #expect(FileManager.default.fileExists(atPath: source), "\(name): bind mount \(source) missing")
            }
            if let ports = service["ports"] as? [[String: Any]] {
                for port in ports { #expect(port["host_ip"] as? String == "127.0.0.1", "\(name) publishes beyond loopback by default") }
            }
        }

        let expectations: [(service: String, binary: String, needs: [String: String])] = [
            ("bridge", "chirp-bridge", ["mosquitto": "service_healthy", "kafka-init": "service_completed_successfully"]),
            ("categorizer", "chirp-categorizer", ["kafka-init": "service_completed_successfully"]),
            ("loader", "chirp-loader", ["migrate": "service_completed_successfully", "kafka-init": "service_completed_successfully"]),
            ("sender", "chirp-sender", ["bridge": "service_healthy", "categorizer": "service_healthy", "loader": "service_healthy"]),
        ]
        for (name, binary, needs) in expectations {
            let service = try #require(services[name], "service \(name) missing")
            #expect(service["entrypoint"] as? [String] == [binary], "\(name) runs \(binary) (arguments of `compose run` go to it)")
            let help = try run(try Paths.binary(binary), ["--help"])
            let environment = service["environment"] as? [String: Any] ?? [:]
            for key in environment.keys.sorted() {
                #expect(help.output.contains("$\(key)"), "\(name): \(key) is not an option of \(binary)")
            }
            let dependsOn = service["depends_on"] as? [String: [String: Any]] ?? [:]
            for (dependency, condition) in needs {
                #expect(dependsOn[dependency]?["condition"] as? String == condition, "\(name) should wait for \(dependency) (\(condition))")
            }
            guard name != "sender" else {
                #expect(service["restart"] as? String == "no", "the sender is a job")
                continue
            }
            let port = try #require(environment["HTTP_PORT"] as? String, "\(name): HTTP_PORT")
            let test = try #require((service["healthcheck"] as? [String: Any])?["test"] as? [String])
            #expect(test == ["CMD", binary, "healthcheck", "--http-port", port], "\(name) healthcheck: \(test)")
            #expect(environment["HTTP_HOST"] as? String == "0.0.0.0")
        }
        // The schema comes from a one-off as its owner, after the roles; the loader only waits for it.
        let migrate = try #require(services["migrate"])
        #expect(migrate["entrypoint"] as? [String] == ["chirp", "migrate"])
        let migrateHelp = try run(try Paths.binary("chirp"), ["migrate", "--help"])
        for key in (migrate["environment"] as? [String: Any] ?? [:]).keys {
            #expect(migrateHelp.output.contains("$\(key)"), "migrate: \(key) is not an option of chirp migrate")
        }
        #expect(((migrate["environment"] as? [String: Any])?["POSTGRES_OWNER_URL"] as? String)?.hasPrefix("postgresql://chirp:") == true)
        let migrateNeeds = migrate["depends_on"] as? [String: [String: Any]] ?? [:]
        #expect(migrateNeeds["postgres-setup"]?["condition"] as? String == "service_completed_successfully")
        let loaderURL = (services["loader"]?["environment"] as? [String: Any])?["POSTGRES_URL"] as? String
        #expect(loaderURL?.hasPrefix("postgresql://chirp_writer:") == true, "the loader logs in as chirp_writer: \(loaderURL ?? "")")

        let superset = try #require(services["superset"])
        let uri = try #require((superset["environment"] as? [String: Any])?["CHIRP_DATABASE_URI"] as? String)
        #expect(uri.contains("//chirp_reader:"), "Superset must read through the read-only role: \(uri)")
        #expect(Set(services.keys).isSuperset(of: ["mosquitto", "kafka", "kafka-init", "postgres", "superset", "druid-router", "druid-ingest", "kafka-connect", "kafka-connect-init"]))
    }

    // MARK: Dockerfiles

    @Test(arguments: ["deploy/Dockerfile", "deploy/superset/Dockerfile", "deploy/kafka-connect/Dockerfile"])
    func dockerfilePassesHadolint(path: String) throws {
        let result = try run(try Self.tool("hadolint"), ["--no-color", "--config", Self.root.appendingPathComponent(".hadolint.yaml").path,
                                                          Self.root.appendingPathComponent(path).path])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(arguments: [
        ("COPY --from=build /out/bin/ /usr/local/bin/", "COPY --from=builder /out/bin/ /usr/local/bin/", "DL3022"),
        ("USER 10001", "USER chirp", "DL3066"),
        ("EXPOSE 9101 9102 9103 9104", "EXPOSE 91019", "DL3011"),
    ])
    func brokenDockerfileIsRejected(original: String, replacement: String, rule: String) throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("Dockerfile").path
        try Self.mutated(try Self.file("deploy/Dockerfile"), original, replacement).write(toFile: path, atomically: true, encoding: .utf8)
        let result = try run(try Self.tool("hadolint"), ["--no-color", "--failure-threshold", "info", path])
        #expect(result.status != 0)
        #expect(result.output.contains(rule), "\(result.output)")
    }

    // MARK: mosquitto.conf

    /// Starts Debian's mosquitto on the project's config (port and data folder mapped to scratch
    /// ones) and reports whether it was still running after `seconds`, with its output.
    static func startMosquitto(config text: String, seconds: Double = 2,
                               whileRunning: (_ port: Int, _ tls: URL) throws -> Void = { _, _ in }) throws -> (running: Bool, output: String) {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try LocalStack.freePortBlock(count: 1)
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: folder.path)
        // The certificates as tls-setup makes them, the broker's key given to the broker's user.
        let tls = folder.appendingPathComponent("tls")
        let made = try Self.makeCertificates(in: tls, uids: ["MOSQUITTO_UID": try Self.uid(of: "mosquitto")])
        #expect(made.status == 0, "\(made.output)")
        let mapped = text.replacingOccurrences(of: "listener 8883 0.0.0.0", with: "listener \(port) 127.0.0.1")
            .replacingOccurrences(of: "/tls/", with: tls.path + "/")
            .replacingOccurrences(of: "/mosquitto/data/", with: data.path + "/")
            .replacingOccurrences(of: "/mosquitto/config/acl", with: Paths.repository.appendingPathComponent("deploy/mosquitto/acl").path)
        // The password file, as the container writes it at start: plain text, hashed in place.
        let passwords = data.appendingPathComponent("passwd").path
        try "chirp-sender:one\nchirp-bridge:two\n".write(toFile: passwords, atomically: true, encoding: .utf8)
        #expect(try run("/usr/bin/mosquitto_passwd", ["-U", passwords]).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: passwords)
        let config = folder.appendingPathComponent("mosquitto.conf").path
        try mapped.write(toFile: config, atomically: true, encoding: .utf8)
        let log = folder.appendingPathComponent("out").path
        let child = try ChildProcess("/usr/sbin/mosquitto", ["-c", config], environment: [:], output: log)
        let deadline = ContinuousClock.now + .seconds(seconds)
        var exited = false
        while ContinuousClock.now < deadline {
            if !child.isRunning { exited = true; break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let listening = !LocalStack.isFree(port)
        if !exited && listening { try whileRunning(port, tls) }
        if !exited { child.signal(SIGTERM) }
        _ = child.wait()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (!exited && listening, output)
    }

    /// The broker on the project's config speaks TLS only, with tls-setup's certificate: a client
    /// checking the name localhost against the suite's CA logs in; one without TLS gets nowhere.
    @Test func mosquittoAcceptsItsConfig() throws {
        let result = try Self.startMosquitto(config: try Self.file("deploy/mosquitto/mosquitto.conf")) { port, tls in
            let client = ["-h", "localhost", "-p", String(port), "-u", "chirp-sender", "-P", "one", "-t", "tweets", "-m", "{}", "-q", "1"]
            let overTLS = try run("/usr/bin/mosquitto_pub", client + ["--cafile", tls.appendingPathComponent("ca.crt").path])
            #expect(overTLS.status == 0, "\(overTLS.output)")
            let plain = try run("/usr/bin/timeout", ["5", "/usr/bin/mosquitto_pub"] + client)
            #expect(plain.status != 0, "a plain-text client was served: \(plain.output)")
        }
        #expect(result.running, "mosquitto did not keep running on deploy/mosquitto/mosquitto.conf:\n\(result.output)")
    }

    // MARK: TLS certificates

    static func uid(of user: String) throws -> String {
        try run("/usr/bin/id", ["-u", user]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// deploy/tls/make-certs.sh as tls-setup runs it, into `folder`: as root with only the two
    /// capabilities compose gives it (CHOWN, DAC_OVERRIDE).
    static func makeCertificates(in folder: URL, uids: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let environment = ["TLS_DIR": folder.path, "PATH": "/usr/bin:/bin", "MOSQUITTO_UID": "0", "POSTGRES_UID": "0", "KAFKA_UID": "0"]
            .merging(uids) { $1 }
        return try run("/usr/bin/env", ["-i"] + environment.map { "\($0)=\($1)" }
                       + ["/usr/bin/setpriv", "--bounding-set=-all,+chown,+dac_override", "--",
                          "/bin/sh", Self.root.appendingPathComponent("deploy/tls/make-certs.sh").path])
    }

    /// Each server's certificate chains to the CA and names the server and localhost; each key is
    /// its server user's alone; the clients' volume gets the CA certificate alone; the CA's key is
    /// gone; a second run keeps what is current; a missing key, or a certificate near its end,
    /// makes a new set, after which the previous CA is still trusted (for the servers not yet
    /// restarted). All with the capabilities compose grants, keys already handed over included.
    @Test func tlsSetupMakesOneCertificatePerServer() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tls = folder.appendingPathComponent("tls"), clients = folder.appendingPathComponent("ca"), temporary = folder.appendingPathComponent("tmp")
        for made in [tls, clients, temporary] { try FileManager.default.createDirectory(at: made, withIntermediateDirectories: true) }
        let uids = ["MOSQUITTO_UID": try Self.uid(of: "mosquitto"), "POSTGRES_UID": try Self.uid(of: "postgres"), "KAFKA_UID": "1000",
                    "CA_DIR": clients.path, "TMPDIR": temporary.path]
        let first = try Self.makeCertificates(in: tls, uids: uids)
        #expect(first.status == 0 && first.output.contains("made a CA and certificates"), "\(first.output)")
        let ca = tls.appendingPathComponent("ca.crt").path
        for (server, uidKey) in [("mosquitto", "MOSQUITTO_UID"), ("postgres", "POSTGRES_UID"), ("kafka", "KAFKA_UID")] {
            let certificate = tls.appendingPathComponent("\(server)/server.crt").path
            for name in [server, "localhost"] {
                let verified = try run("/usr/bin/openssl", ["verify", "-CAfile", ca, "-verify_hostname", name, certificate])
                #expect(verified.status == 0 && verified.output.contains(": OK"), "\(server) for \(name): \(verified.output)")
            }
            let other = try run("/usr/bin/openssl", ["verify", "-CAfile", ca, "-verify_hostname", server == "kafka" ? "postgres" : "kafka", certificate])
            #expect(other.status != 0, "\(server)'s certificate names another server")
            for file in ["server.key", "server.pem"] {
                let attributes = try FileManager.default.attributesOfItem(atPath: tls.appendingPathComponent("\(server)/\(file)").path)
                #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(server)/\(file) mode")
                #expect((attributes[.ownerAccountID] as? NSNumber)?.stringValue == uids[uidKey], "\(server)/\(file) owner")
            }
        }
        let files = try FileManager.default.subpathsOfDirectory(atPath: tls.path)
        #expect(!files.contains { $0.hasPrefix("ca.") && $0 != "ca.crt" } && !files.contains { $0.hasPrefix(".") }, "left behind: \(files)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty, "the CA's key was left in the temporary folder")
        #expect(try FileManager.default.contentsOfDirectory(atPath: clients.path) == ["ca.crt"])
        let before = try String(contentsOfFile: ca, encoding: .utf8)
        #expect(try String(contentsOf: clients.appendingPathComponent("ca.crt"), encoding: .utf8) == before)
        let second = try Self.makeCertificates(in: tls, uids: uids)
        let kept = try String(contentsOfFile: ca, encoding: .utf8)
        #expect(second.output.contains("are current") && kept == before, "\(second.output)")

        try FileManager.default.removeItem(at: tls.appendingPathComponent("kafka/server.key"))
        let repaired = try Self.makeCertificates(in: tls, uids: uids)
        #expect(repaired.status == 0 && repaired.output.contains("made a CA"), "\(repaired.output)")
        let renewed = try Self.makeCertificates(in: tls, uids: uids.merging(["RENEW_DAYS": "900"]) { $1 })
        let replaced = try String(contentsOfFile: ca, encoding: .utf8)
        #expect(renewed.status == 0 && renewed.output.contains("RENEWED: restart the servers") && replaced != before, "\(renewed.output)")
        #expect(replaced.components(separatedBy: "BEGIN CERTIFICATE").count - 1 == 2, "the previous CA is no longer trusted")
        #expect(try String(contentsOf: clients.appendingPathComponent("ca.crt"), encoding: .utf8) == replaced)
        for server in ["mosquitto", "postgres", "kafka"] {
            let verified = try run("/usr/bin/openssl", ["verify", "-CAfile", ca, tls.appendingPathComponent("\(server)/server.crt").path])
            #expect(verified.status == 0, "\(server) after renewal: \(verified.output)")
        }
    }

    @Test func mosquittoRejectsABrokenConfig() throws {
        let text = try Self.file("deploy/mosquitto/mosquitto.conf").replacingOccurrences(of: "max_queued_messages 0", with: "max_queued_mesages 0")
        let result = try Self.startMosquitto(config: text)
        #expect(!result.running)
        #expect(result.output.contains("max_queued_mesages"), "\(result.output)")
    }

    // MARK: PostgreSQL roles

    /// Runs deploy/postgres/setup.sh as compose's postgres-setup does (psql as the superuser,
    /// passwords from the environment) on a fresh cluster with password authentication over TCP:
    /// each role logs in with its password and may do only its part; running it again with a new
    /// password rotates it; placeholders and missing secrets stop it, naming the variable.
    @Test func postgresSetupCreatesTheRolesAndRotatesPasswords() throws {
        let folder = try Self.scratch()
        defer {
            _ = try? run("/usr/sbin/runuser", ["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", folder.appendingPathComponent("data").path, "-m", "immediate", "stop"])
            try? FileManager.default.removeItem(at: folder)
        }
        _ = try run("/bin/chown", ["postgres", folder.path])
        let port = try LocalStack.freePortBlock(count: 1)
        let asPostgres = ["-u", "postgres", "--"]
        let initdb = try run("/usr/sbin/runuser", asPostgres + ["/usr/lib/postgresql/15/bin/initdb", "-D", folder.appendingPathComponent("data").path,
                                                               "-U", "postgres", "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256"])
        #expect(initdb.status == 0, "\(initdb.output)")
        let start = try run("/usr/sbin/runuser", asPostgres + ["/usr/lib/postgresql/15/bin/pg_ctl", "-D", folder.appendingPathComponent("data").path, "-w",
                                                              "-l", folder.appendingPathComponent("log").path,
                                                              "-o", "-p \(port) -k \(folder.path) -c listen_addresses=127.0.0.1", "start"])
        try #require(start.status == 0, "\(start.output)")
        let script = Self.root.appendingPathComponent("deploy/postgres/setup.sh").path
        func setup(_ secrets: [String: String]) throws -> (status: Int32, output: String) {
            let environment = ["PGHOST": folder.path, "PGPORT": String(port), "POSTGRES_PASSWORD": "unused-locally"].merging(secrets) { _, new in new }
            return try run("/usr/sbin/runuser", asPostgres + ["/usr/bin/env"] + environment.map { "\($0)=\($1)" } + ["/bin/bash", script])
        }
        let secrets = ["CHIRP_OWNER_PASSWORD": "o-secret", "CHIRP_WRITER_PASSWORD": "w-secret", "CHIRP_READER_PASSWORD": "r-secret"]
        let first = try setup(secrets)
        #expect(first.status == 0 && first.output.contains("setup: roles"), "\(first.output)")

        func login(_ user: String, _ password: String, _ sql: String) throws -> (status: Int32, output: String) {
            try run("/usr/bin/psql", ["-X", "-tA", "-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", "chirp", "-c", sql],
                    environment: ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"])
        }
        let owner = try login("chirp", "o-secret", "CREATE TABLE t (x int); SELECT current_user")
        #expect(owner.status == 0 && owner.output.contains("chirp"), "\(owner.output)")
        // The cluster here is initialized in the C locale (SQL_ASCII); tweets need UTF-8 whatever it is.
        let encoding = try login("chirp", "o-secret", "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'chirp'")
        #expect(encoding.output.trimmingCharacters(in: .whitespacesAndNewlines) == "UTF8", "\(encoding.output)")
        for (user, password, refusal) in [("chirp_writer", "w-secret", "permission denied for schema public"),
                                          ("chirp_reader", "r-secret", "read-only transaction")] {
            let made = try login(user, password, "CREATE TABLE u (x int)")
            #expect(made.status != 0 && made.output.contains(refusal), "\(user): \(made.output)")
        }
        let timeout = try login("chirp_reader", "r-secret", "SHOW statement_timeout")
        #expect(timeout.output.trimmingCharacters(in: .whitespacesAndNewlines) == "30s", "\(timeout.output)")
        let wrongPassword = try login("chirp_reader", "nope", "SELECT 1")
        #expect(wrongPassword.status != 0 && wrongPassword.output.contains("password authentication failed"), "\(wrongPassword.output)")
        let stored = try run("/usr/sbin/runuser", asPostgres + ["/usr/bin/psql", "-X", "-tA", "-h", folder.path, "-p", String(port), "-d", "postgres", "-c",
            "SELECT count(*) FROM pg_authid WHERE rolname LIKE 'chirp%' AND rolpassword LIKE 'SCRAM-SHA-256$%'"])
        #expect(stored.output.trimmingCharacters(in: .whitespacesAndNewlines) == "3", "\(stored.output)")

        // Rotation: the same script with a new writer password; the old one no longer works.
        let rotated = try setup(secrets.merging(["CHIRP_WRITER_PASSWORD": "w-rotated"]) { _, new in new })
        #expect(rotated.status == 0, "\(rotated.output)")
        #expect(try login("chirp_writer", "w-secret", "SELECT 1").status != 0)
        #expect(try login("chirp_writer", "w-rotated", "SELECT 1").status == 0)

        let placeholder = try setup(secrets.merging(["CHIRP_READER_PASSWORD": "change-me-reader"]) { _, new in new })
        #expect(placeholder.status != 0 && placeholder.output.contains("setup: CHIRP_READER_PASSWORD is a placeholder"), "\(placeholder.output)")
        let unsafe = try setup(secrets.merging(["CHIRP_WRITER_PASSWORD": "w/secret#1"]) { _, new in new })
        #expect(unsafe.status != 0 && unsafe.output.contains("setup: CHIRP_WRITER_PASSWORD may hold letters, digits") && !unsafe.output.contains("w/secret"),
                "\(unsafe.output)")
        var missingOwner = secrets
        missingOwner["CHIRP_OWNER_PASSWORD"] = nil
        let missing = try setup(missingOwner)
        #expect(missing.status != 0 && missing.output.contains("setup: CHIRP_OWNER_PASSWORD is empty"), "\(missing.output)")
    }

    // MARK: Kafka logins and ACLs

    /// A folder of stand-ins for the Kafka tools that log each call (and the credential file
    /// kafka-configs.sh is given), for running deploy/kafka/*.sh where no Kafka is installed.
    static func kafkaToolStubs(in folder: URL) throws -> (bin: URL, log: URL) {
        let bin = folder.appendingPathComponent("bin"), log = folder.appendingPathComponent("calls.log")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for tool in ["kafka-configs.sh", "kafka-topics.sh", "kafka-acls.sh", "kafka-storage.sh", "kafka-server-start.sh"] {
            let body = """
                #!/bin/bash
                echo "$(basename "$0") $*" >> '\(log.path)'
                while [ $# -gt 0 ]; do
                  case "$1" in
                    --add-config-file) echo "file: $(cat "$2")" >> '\(log.path)'; shift ;;
                    -c) [ "$(basename "$0")" != kafka-storage.sh ] || touch "$KAFKA_DATA_DIR/meta.properties"; shift ;;
                  esac
                  shift
                done
                [ "$(basename "$0")" != kafka-storage.sh ] || echo 00000000-0000-0000-0000-000000000000
                """
            let path = bin.appendingPathComponent(tool).path
            try body.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        return (bin, log)
    }

    /// kafka-init gives each service principal of docker-compose.yml exactly its part: the
    /// credentials go to the tools in files, never as arguments; placeholders stop it, naming
    /// the variable; KAFKA_SECURITY=none only creates the topics.
    @Test func kafkaInitGrantsEachPrincipalItsPartOnly() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (bin, log) = try Self.kafkaToolStubs(in: folder)
        let secrets = ["KAFKA_ADMIN_PASSWORD": "a-secret", "BRIDGE_KAFKA_PASSWORD": "b-secret",
                       "CATEGORIZER_KAFKA_PASSWORD": "c-secret", "LOADER_KAFKA_PASSWORD": "l-secret"]
        func initialize(_ environment: [String: String]) throws -> (status: Int32, output: String, calls: [String]) {
            try? FileManager.default.removeItem(at: log)
            let base = ["KAFKA_BIN": bin.path, "PATH": "/usr/bin:/bin", "KAFKA_CA_FILE": "/ca.crt"]
            let result = try run("/usr/bin/env", ["-i"] + base.merging(environment) { $1 }.map { "\($0)=\($1)" }
                                 + ["/bin/bash", Self.root.appendingPathComponent("deploy/kafka/init.sh").path])
            let calls = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            return (result.status, result.output, calls)
        }
        let done = try initialize(secrets)
        #expect(done.status == 0, "\(done.output)")
        for secret in secrets.values {
            #expect(!done.calls.contains { !$0.hasPrefix("file: ") && $0.contains(secret) }, "\(secret) passed as an argument")
            #expect(!done.output.contains(secret))
        }
        for (user, password) in [("chirp-bridge", "b-secret"), ("chirp-categorizer", "c-secret"), ("chirp-loader", "l-secret")] {
            let index = try #require(done.calls.firstIndex { $0.contains("--entity-name \(user) --add-config-file") })
            #expect(done.calls[index + 1] == "file: SCRAM-SHA-512=[password=\(password)]")
        }
        for optional in ["chirp-druid", "chirp-connect"] {
            let calls = done.calls.filter { $0.contains(optional) }
            #expect(calls.count == 1 && calls[0].hasSuffix("--entity-name \(optional) --delete-config SCRAM-SHA-512"), "\(optional) without its secret: \(calls)")
        }
        #expect(done.output.contains("credentials and ACLs set for") && !done.output.contains("chirp-druid"), "\(done.output)")
        let grants = done.calls.filter { $0.hasPrefix("kafka-acls.sh") }.map { call -> String in
            let parts = call.components(separatedBy: " --allow-principal User:")
            return parts.count == 2 ? parts[1] : call
        }
        #expect(grants == [
            "chirp-bridge --operation Write --operation Describe --operation Create --topic tweets.raw",
            "chirp-categorizer --operation Read --operation Describe --operation Create --topic tweets.raw",
            "chirp-categorizer --operation Write --operation Describe --operation Create --topic tweets.enriched --topic tweets.dlq",
            "chirp-categorizer --operation Read --group chirp-categorizer",
            "chirp-loader --operation Read --operation Describe --operation Create --topic tweets.enriched",
            "chirp-loader --operation Read --group chirp-loader",
        ], "\(grants)")
        #expect(done.calls.filter { $0.hasPrefix("kafka-topics.sh") }.count == 3)
        #expect(done.calls.allSatisfy { !$0.hasPrefix("kafka-") || $0.contains("--command-config /tmp/admin.properties") })

        // The principals and topics are the ones the services are configured with.
        let config = try Self.composeConfig(try Self.file("docker-compose.yml"), json: true)
        let services = try #require((try JSONSerialization.jsonObject(with: Data(config.output.utf8)) as? [String: Any])?["services"] as? [String: [String: Any]])
        for (service, variable, topics) in [("bridge", "BRIDGE", ["RAW_TOPIC"]), ("categorizer", "CATEGORIZER", ["RAW_TOPIC", "ENRICHED_TOPIC", "DLQ_TOPIC"]),
                                            ("loader", "LOADER", ["ENRICHED_TOPIC"])] {
            let environment = try #require(services[service]?["environment"] as? [String: Any])
            let user = try #require(environment["\(variable)_KAFKA_USERNAME"] as? String)
            for topic in topics {
                let name = try #require(environment[topic] as? String)
                #expect(grants.contains { $0.hasPrefix(user + " ") && $0.contains("--topic \(name)") }, "\(user) has no ACL for \(name)")
            }
            #expect(environment["KAFKA_CA_FILE"] as? String == "/tls/ca.crt")
        }

        let optional = try initialize(secrets.merging(["DRUID_KAFKA_PASSWORD": "d-secret"]) { $1 })
        #expect(optional.calls.contains { $0.hasSuffix("User:chirp-druid --operation Read --operation Describe --topic tweets.enriched") }, "\(optional.calls)")
        let placeholder = try initialize(secrets.merging(["LOADER_KAFKA_PASSWORD": "change-me-loader-kafka"]) { $1 })
        #expect(placeholder.status != 0 && placeholder.output.contains("kafka-init: LOADER_KAFKA_PASSWORD is a placeholder"), "\(placeholder.output)")
        #expect(!placeholder.calls.contains { $0.hasPrefix("kafka-acls.sh") })
        let plain = try initialize(["KAFKA_SECURITY": "none"])
        #expect(plain.status == 0 && plain.calls.count == 3 && plain.calls.allSatisfy { $0.hasPrefix("kafka-topics.sh") }, "\(plain.calls)")
    }

    /// The broker's start: every listener a client can reach is SASL_SSL, the controller's is on
    /// loopback, an authorizer refuses what no ACL allows; the admin's credential is written at the
    /// first start only; the files holding it are the container user's alone.
    @Test func kafkaStartConfiguresSASLOverTLSWithAnAuthorizer() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (bin, log) = try Self.kafkaToolStubs(in: folder)
        let conf = folder.appendingPathComponent("conf"), data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        func start(_ password: String) throws -> (status: Int32, output: String) {
            let environment = ["KAFKA_BIN": bin.path, "KAFKA_CONF_DIR": conf.path, "KAFKA_DATA_DIR": data.path, "PATH": "/usr/bin:/bin",
                               "KAFKA_ADMIN_PASSWORD": password]
            return try run("/usr/bin/env", ["-i"] + environment.map { "\($0)=\($1)" } + ["/bin/bash", Self.root.appendingPathComponent("deploy/kafka/start.sh").path])
        }
        let first = try start("a-secret")
        #expect(first.status == 0 && !first.output.contains("a-secret"), "\(first.output)")
        let text = try String(contentsOf: conf.appendingPathComponent("server.properties"), encoding: .utf8)
        var properties: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { properties[parts[0]] = parts[1] }
        }
        let protocols = Dictionary(uniqueKeysWithValues: (properties["listener.security.protocol.map"] ?? "").split(separator: ",").map {
            let pair = $0.split(separator: ":"); return (String(pair[0]), String(pair[1]))
        })
        for listener in (properties["listeners"] ?? "").split(separator: ",") {
            let name = String(listener.split(separator: ":")[0])
            if name == "CONTROLLER" {
                #expect(listener.hasSuffix("//localhost:9093"), "the controller listens beyond loopback: \(listener)")
            } else {
                #expect(protocols[name] == "SASL_SSL", "\(name) is \(protocols[name] ?? "unmapped")")
            }
        }
        #expect(properties["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
        #expect(properties["allow.everyone.if.no.acl.found"] == "false")
        #expect(properties["sasl.enabled.mechanisms"] == "SCRAM-SHA-512")
        #expect(properties["ssl.keystore.location"] == "/tls/kafka/server.pem")
        for file in ["server.properties", "admin.properties"] {
            let mode = try FileManager.default.attributesOfItem(atPath: conf.appendingPathComponent(file).path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) mode \(String(mode ?? 0, radix: 8))")
        }
        let calls = try String(contentsOf: log, encoding: .utf8)
        #expect(calls.contains("--add-scram SCRAM-SHA-512=[name=chirp-admin,password=a-secret]"), "\(calls)")
        #expect(try start("a-secret").status == 0)
        let formats = try String(contentsOf: log, encoding: .utf8).components(separatedBy: "kafka-storage.sh format").count - 1
        #expect(formats == 1, "formatted \(formats) times")
        let placeholder = try start("change-me-kafka-admin")
        #expect(placeholder.status != 0 && placeholder.output.contains("kafka: KAFKA_ADMIN_PASSWORD is a placeholder"), "\(placeholder.output)")
        // A password that would add a line to the broker's configuration is refused before anything is written.
        try FileManager.default.removeItem(at: conf)
        let injected = try start("pw,x]\nsuper.users=User:chirp-bridge")
        #expect(injected.status != 0 && injected.output.contains("kafka: KAFKA_ADMIN_PASSWORD may hold letters, digits"), "\(injected.output)")
        #expect(!FileManager.default.fileExists(atPath: conf.appendingPathComponent("server.properties").path))
    }

    // MARK: Superset dashboard sources

    /// The Superset container's start refuses placeholders and empty secrets before anything runs,
    /// naming the variable (the rest of bootstrap.sh runs in `make dashboard-test`).
    @Test func supersetBootstrapRefusesPlaceholderSecrets() throws {
        let script = Self.root.appendingPathComponent("deploy/superset/bootstrap.sh").path
        let good = ["SUPERSET_SECRET_KEY": "k-\(UUID().uuidString)", "SUPERSET_ADMIN_PASSWORD": "a-secret",
                    "CHIRP_DATABASE_URI": "postgresql+psycopg2://chirp_reader:r-secret@postgres:5432/chirp", "PATH": "/usr/bin:/bin"]
        let cases: [([String: String], String)] = [
            (["SUPERSET_ADMIN_PASSWORD": "change-me-admin"], "bootstrap: SUPERSET_ADMIN_PASSWORD is a placeholder"),
            (["SUPERSET_SECRET_KEY": "CHANGE-ME-to-a-long-random-string"], "bootstrap: SUPERSET_SECRET_KEY is a placeholder"),
            (["SUPERSET_SECRET_KEY": ""], "bootstrap: SUPERSET_SECRET_KEY is empty"),
            (["CHIRP_DATABASE_URI": "postgresql+psycopg2://chirp_reader:change-me-reader@postgres:5432/chirp"],
             "bootstrap: CHIRP_DATABASE_URI holds a placeholder password"),
        ]
        for (change, expected) in cases {
            let environment = good.merging(change) { $1 }
            let result = try run("/usr/bin/env", ["-i"] + environment.map { "\($0)=\($1)" } + ["/bin/bash", script])
            #expect(result.status == 1 && result.output.contains(expected), "\(change): \(result.output)")
        }
    }

    static func bundleCheck(_ source: URL) throws -> (status: Int32, output: String) {
        let python = Self.root.appendingPathComponent(".tools/checks-venv/bin/python").path
        return try run(python, [Self.root.appendingPathComponent("deploy/superset/bundle.py").path, "--check", "--source", source.path])
    }

    @Test func dashboardSourcesAreConsistent() throws {
        let result = try Self.bundleCheck(Self.root.appendingPathComponent("deploy/superset/dashboard"))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("sources ok (8 charts)"), "\(result.output)")
    }

    @Test(arguments: [
        ("charts/top_hashtags_last_hour.yaml", "dataset: chirp_top_hashtags_last_hour", "dataset: chirp_top_hashtag", "unknown dataset chirp_top_hashtag"),
        ("charts/tweets_by_language.yaml", "groupby: [lang]", "groupby: [language]", "groupby language is not a column"),
        ("dashboards/Chirpstream.yaml", "    - {chart: tweets_by_language, width: 4, height: 60}\n", "", "charts not in the layout: tweets_by_language"),
        ("datasets/Chirpstream/chirp_totals.yaml", "metric_name: tweets_stored,", "metric_name: stored,", "metric tweets_stored is not a metric"),
    ])
    func brokenDashboardSourcesAreRejected(file: String, original: String, replacement: String, message: String) throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("dashboard")
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("deploy/superset/dashboard"), to: copy)
        let path = copy.appendingPathComponent(file).path
        try Self.mutated(try String(contentsOfFile: path, encoding: .utf8), original, replacement)
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Self.bundleCheck(copy)
        #expect(result.status != 0)
        #expect(result.output.contains(message), "\(result.output)")
    }
}
