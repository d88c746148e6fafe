import ChirpCore
import ChirpPipeline
import ChirpService

/// chirp-sender: replays a tweets file to MQTT (QoS 1), or generates a synthetic one.
@main
struct SenderMain {
    static let specs: [OptionSpec] = [
        OptionSpec("file", env: "TWEETS_FILE", default: "", help: "Tweets file to replay (JSON array, JSON lines or concatenated JSON of v1.1, v2, records or minimal tweets; or CSV). Also accepted as the first argument."),
    ] + InputOptions.specs + ConnectionOptions.mqtt(
        service: "SENDER", topicHelp: "Topic to publish tweets to.",
        clientIdHelp: "MQTT client id; default chirp-sender-<instance-id>. Chirpstream's broker configurations use the login name instead."
    ) + [
        OptionSpec("rate", env: "SENDER_RATE", default: "0", help: "Tweets per second; 0 = as fast as the broker acknowledges."),
        OptionSpec("speedup", env: "SENDER_SPEEDUP", default: "0", help: "Replay with the tweets' original created_at spacing divided by this factor; 0 = off."),
        .switch("loop", env: "SENDER_LOOP", help: "Replay the file again and again until stopped; pass k ≥ 2 appends '~k' to every tweet id, so each pass adds new tweets."),
        .switch("restamp", env: "SENDER_RESTAMP", help: "Set each tweet's created_at to the moment it is sent, so a replay looks live."),
        OptionSpec("max-in-flight", env: "SENDER_MAX_IN_FLIGHT", default: "200", help: "Published QoS 1 messages awaiting PUBACK at most (1–65535)."),
        OptionSpec("progress-seconds", env: "SENDER_PROGRESS_SECONDS", default: "5", help: "Seconds between progress lines on stderr; 0 = none."),
    ]

    static func main() async {
        await ServiceMain.run(
            name: "chirp-sender",
            summary: "Replays a tweets file to MQTT with QoS 1, one message per tweet, at a chosen pace.",
            specs: specs, httpPort: 9101,
            subcommands: [Generate.subcommand]
        ) { context in
            let replay = try Replay(context: context)
            return [WorkerThread(name: "replay") { stop in try replay.run(stop: stop) }]
        }
    }
}
