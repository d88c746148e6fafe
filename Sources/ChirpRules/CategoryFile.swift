import ChirpCore
import ChirpService
import Foundation
import Yams

/// Loads `--categories-file`: JSON, or YAML for a `.yaml`/`.yml` name. YAML goes through Yams'
/// node tree and every scalar stays text, so keywords such as `yes`, `on` or `1984` are not turned
/// into Booleans or numbers.
public enum CategoryFile {
    public static func load(path: String) throws -> CategoryTable {
        guard !path.isEmpty else { return .default }
        guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read categories file '\(path)'") }
        do {
            let lower = path.lowercased()
            if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
                return try CategoryTableFile.parse(try yamlValue(String(decoding: data, as: UTF8.self)))
            }
            return try CategoryTableFile.parse(Array(data))
        } catch let error as CategoryTableFile.Problem {
            throw UsageError("\(path): \(error)")
        } catch let error as YamlError {
            throw UsageError("\(path): not valid YAML: \(error)")
        }
    }

    public static func yamlValue(_ text: String) throws -> JSONValue {
        guard let node = try Yams.compose(yaml: text) else { return .object(JSONObject()) }
        return convert(node)
    }

    private static func convert(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            return .string(scalar.string)
        case .sequence(let sequence):
            return .array(sequence.map(convert))
        case .mapping(let mapping):
            return .object(JSONObject(mapping.map { (key: $0.key.string ?? "", value: convert($0.value)) }))
        case .alias:
            return .null
        }
    }
}

/// The rule options shared by everything that derives enriched tweets (categorizer, `classify`,
/// `chirp recompute`): same flags, same environment variables.
public enum RuleOptions {
    public static let categoriesFile = OptionSpec(
        "categories-file", env: "CATEGORIES_FILE", default: "",
        help: "Category table (JSON, or YAML for .yaml/.yml) replacing or extending the defaults (see docs/data.md).")
    /// The payload size limit, the same for everything that decodes payloads (larger ones are
    /// dead letters, reason too_large).
    public static func maxPayloadBytes(_ help: String) -> OptionSpec {
        OptionSpec("max-payload-bytes", env: "MAX_PAYLOAD_BYTES", default: String(Wire.defaultMaxPayloadBytes), help: help)
    }
}
