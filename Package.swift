// swift-tools-version:6.0
import PackageDescription

// Chirpstream: four services (sender → MQTT → bridge → Kafka → categorizer → Kafka → loader → PostgreSQL)
// and the `chirp` CLI. Pure logic lives in ChirpCore/ChirpStore; each C library has exactly one
// adapter module that imports it; executables are thin compositions.
let package = Package(
    name: "Chirpstream",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "chirp-sender", targets: ["chirp-sender"]),
        .executable(name: "chirp-bridge", targets: ["chirp-bridge"]),
        .executable(name: "chirp-categorizer", targets: ["chirp-categorizer"]),
        .executable(name: "chirp-loader", targets: ["chirp-loader"]),
        .executable(name: "chirp", targets: ["chirp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // C libraries, each wrapped once.
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // Pure logic: no I/O.
        .target(name: "ChirpCore"),
        .target(name: "ChirpStore", dependencies: ["ChirpCore"]),

        // The services' loops over small ports (consumer, producer, MQTT, tweet sink, clock): no C
        // module, so they run on the real adapters and on ChirpTesting's in-memory ones alike.
        .target(name: "ChirpPipeline", dependencies: [
            "ChirpCore", "ChirpStore", "ChirpService",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // In-memory broker, store and clock with injectable faults, and the deterministic
        // simulation that runs the loops over them.
        .target(name: "ChirpTesting", dependencies: [
            "ChirpCore", "ChirpStore", "ChirpPipeline", "ChirpService",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Adapters: the only importers of their C library.
        .target(name: "ChirpKafka", dependencies: [
            "CRdKafka", "ChirpCore", "ChirpPipeline", "ChirpService",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ChirpMQTT", dependencies: [
            "CMosquitto", "ChirpPipeline", "ChirpService",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ChirpPostgres", dependencies: ["CLibPQ", "ChirpCore", "ChirpStore", "ChirpPipeline"]),

        // Shared service runtime: options, logging, HTTP health/metrics, lifecycle.
        .target(name: "ChirpService", dependencies: [
            "ChirpCore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Rule files (YAML/JSON category tables) and the options that select them.
        .target(name: "ChirpRules", dependencies: ["ChirpCore", "ChirpService", "Yams"]),

        // Executables.
        .executableTarget(name: "chirp-sender", dependencies: ["ChirpCore", "ChirpMQTT", "ChirpPipeline", "ChirpService"]),
        .executableTarget(name: "chirp-bridge", dependencies: ["ChirpCore", "ChirpMQTT", "ChirpKafka", "ChirpPipeline", "ChirpService"]),
        .executableTarget(name: "chirp-categorizer", dependencies: ["ChirpCore", "ChirpKafka", "ChirpPipeline", "ChirpRules", "ChirpService"]),
        .executableTarget(name: "chirp-loader", dependencies: ["ChirpCore", "ChirpStore", "ChirpKafka", "ChirpPostgres", "ChirpPipeline", "ChirpService"]),
        .executableTarget(name: "chirp", dependencies: ["ChirpCore", "ChirpStore", "ChirpPostgres", "ChirpRules", "ChirpService"]),
        .executableTarget(name: "chirp-bench", dependencies: ["ChirpCore", "ChirpStore", "ChirpPostgres"]),

        // Tests.
        .testTarget(name: "ChirpCoreTests", dependencies: ["ChirpCore"]),
        .testTarget(name: "ChirpStoreTests", dependencies: ["ChirpStore", "ChirpCore"]),
        .testTarget(name: "ChirpServiceTests", dependencies: ["ChirpService", "ChirpCore"]),
        .testTarget(name: "ChirpKafkaTests", dependencies: ["ChirpKafka", "ChirpPipeline", "ChirpCore", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ChirpPipelineTests", dependencies: ["ChirpPipeline", "ChirpTesting", "ChirpCore", "ChirpStore", "ChirpService"]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "ChirpCore", "ChirpPostgres", "ChirpStore", "ChirpKafka", "ChirpMQTT", "ChirpPipeline", "ChirpService",
            .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
