import Foundation
import Testing

/// The local broker's access rules, tried as an outsider would: nobody gets in without a password,
/// the sender's user may only publish tweets, the bridge's user may only read them, and nobody but
/// the bridge's user can open (and so empty) the bridge's persistent session.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct MQTTAccessTests {
    @Test func onlyTheSenderPublishesAndOnlyTheBridgeReads() throws {
        let stack = try LocalStack()
        defer { stack.stop() }
        let port = stack.environment["MQTT_PORT"]!
        let (sender, senderPassword) = try stack.senderMQTTCredentials
        let (bridge, bridgePassword) = try stack.mqttCredentials("BRIDGE")
        let mosquittoPub = "/usr/bin/mosquitto_pub", mosquittoSub = "/usr/bin/mosquitto_sub"

        // No password, a wrong one, a user that does not exist: refused at the door.
        for credentials in [[String](), ["-u", sender, "-P", "wrong"], ["-u", "admin", "-P", senderPassword]] {
            let result = try run(mosquittoPub, ["-h", "127.0.0.1", "-p", port, "-t", "tweets", "-q", "1", "-m", "x"] + credentials)
            #expect(result.status != 0, "\(credentials.first ?? "anonymous"): \(result.output)")
            #expect(result.output.contains("not authorised") || result.output.contains("Connection Refused"), "\(result.output)")
        }

        /// Subscribes as `user` for up to `seconds` and returns what arrived (one message at most).
        func listen(_ user: String, _ password: String, topic: String, seconds: Int) throws -> ChildProcess {
            let output = stack.state.appendingPathComponent("sub-\(user)-\(UUID().uuidString.prefix(6))").path
            return try ChildProcess(mosquittoSub, ["-h", "127.0.0.1", "-p", port, "-u", user, "-P", password, "-t", topic, "-q", "1",
                                                   "-C", "1", "-W", String(seconds), "-V", "mqttv5"],
                                    environment: [:], output: output)
        }
        func published(as user: String, _ password: String, topic: String = "tweets", message: String) throws {
            _ = try run(mosquittoPub, ["-h", "127.0.0.1", "-p", port, "-u", user, "-P", password, "-t", topic, "-q", "1", "-m", message, "-V", "mqttv5"])
        }

        // The bridge reads what the sender publishes.
        let reader = try listen(bridge, bridgePassword, topic: "tweets", seconds: 10)
        Thread.sleep(forTimeInterval: 0.5)
        try published(as: sender, senderPassword, message: "from the sender")
        #expect(reader.wait() == 0, "the bridge's user did not receive the sender's tweet")

        // The bridge's user cannot publish tweets, and nobody can publish elsewhere.
        let watcher = try listen(bridge, bridgePassword, topic: "tweets", seconds: 3)
        Thread.sleep(forTimeInterval: 0.5)
        try published(as: bridge, bridgePassword, message: "forged by the bridge's user")
        #expect(watcher.wait() != 0, "a message the bridge's user published reached the tweets topic")

        // The sender's user cannot read tweets, nor anything else.
        for topic in ["tweets", "#"] {
            let spy = try listen(sender, senderPassword, topic: topic, seconds: 3)
            Thread.sleep(forTimeInterval: 0.5)
            try published(as: sender, senderPassword, message: "private")
            #expect(spy.wait() != 0, "the sender's user read '\(topic)'")
        }

        // Nobody takes over the bridge's persistent session: the broker names a client by its
        // login, so the sender's user asking for the bridge's client id (clean start, which would
        // discard the queue) gets a session of its own, and every queued message still reaches
        // the bridge's user when it comes back.
        let bridgeId = "chirp-bridge-0"
        _ = try run(mosquittoSub, ["-h", "127.0.0.1", "-p", port, "-u", bridge, "-P", bridgePassword, "-i", bridgeId, "-c",
                                   "-t", "tweets", "-q", "1", "-E"])
        for index in 1...3 { try published(as: sender, senderPassword, message: "queued \(index)") }
        let takeover = try run(mosquittoSub, ["-h", "127.0.0.1", "-p", port, "-u", sender, "-P", senderPassword, "-i", bridgeId,
                                              "-t", "tweets", "-q", "1", "-W", "1"])
        #expect(!takeover.output.contains("queued"), "the sender's user read the bridge's queue: \(takeover.output)")
        let resumed = try run(mosquittoSub, ["-h", "127.0.0.1", "-p", port, "-u", bridge, "-P", bridgePassword, "-i", bridgeId, "-c",
                                             "-t", "tweets", "-q", "1", "-C", "3", "-W", "5"])
        #expect(resumed.output.split(separator: "\n").filter { $0.hasPrefix("queued") } == ["queued 1", "queued 2", "queued 3"],
                "the bridge's session lost its queue: \(resumed.output)")

        // The secrets are the owner's alone.
        for file in [stack.environment["SENDER_MQTT_PASSWORD_FILE"]!, stack.environment["BRIDGE_MQTT_PASSWORD_FILE"]!] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
        }
    }
}
