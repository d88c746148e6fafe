/// Reads a category table from JSON:
///
///     {"mode": "replace", "categories": {"food": ["pizza", "ice cream"], "pets": ["dog", "cat"]}}
///
/// `mode` is `replace` (default: only these categories) or `extend` (the defaults, with these
/// keywords added to existing categories and new categories appended). Keywords may be phrases.
public enum CategoryTableFile {
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public static func parse(_ bytes: [UInt8], base: CategoryTable = .default) throws(Problem) -> CategoryTable {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw Problem(message: "category file is not valid JSON: \(error)") }
        return try parse(value, base: base)
    }

    /// The table from an already parsed document (JSON, or YAML converted to the same values).
    public static func parse(_ value: JSONValue, base: CategoryTable = .default) throws(Problem) -> CategoryTable {
        guard let root = value.objectValue else { throw Problem(message: "category file must be a JSON object") }
        let mode = root["mode"]?.stringValue ?? "replace"
        guard mode == "replace" || mode == "extend" else { throw Problem(message: "mode must be 'replace' or 'extend', got '\(mode)'") }
        guard let categories = (root["categories"] ?? value).objectValue else {
            throw Problem(message: "'categories' must be an object of category name → list of keywords")
        }
        var result = mode == "extend" ? base.categories : []
        for (name, entry) in categories.members where name != "mode" || root["categories"] != nil {
            guard !name.isEmpty, name != CategoryTable.uncategorized else {
                throw Problem(message: "'\(name)' cannot be a category name")
            }
            var keywords: [String] = []
            var languageKeywords: [String: [String]] = [:]
            switch entry {
            case .array:
                keywords = try list(entry, category: name)
            case .object(let perLanguage):
                // {keywords: [...], es: [...], de: [...]}
                for (key, listValue) in perLanguage.members {
                    if key == "keywords" { keywords = try list(listValue, category: name) } else {
                        guard key.count >= 2, key.count <= 8, key.allSatisfy({ $0.isLetter || $0 == "-" }) else {
                            throw Problem(message: "category '\(name)': '\(key)' is no language code (use 'keywords' for all languages)")
                        }
                        languageKeywords[key.lowercased()] = try list(listValue, category: name)
                    }
                }
            default:
                throw Problem(message: "category '\(name)': keywords must be a list, or an object of language → list")
            }
            if let index = result.firstIndex(where: { $0.name == name }) {
                result[index].keywords.append(contentsOf: keywords)
                result[index].languageKeywords.merge(languageKeywords) { $0 + $1 }
            } else {
                result.append(CategoryTable.Category(name: name, keywords: keywords, languageKeywords: languageKeywords))
            }
        }
        guard !result.isEmpty else { throw Problem(message: "category file defines no categories") }
        return CategoryTable(result)
    }

    private static func list(_ value: JSONValue, category: String) throws(Problem) -> [String] {
        guard let items = value.arrayValue else { throw Problem(message: "category '\(category)': keywords must be a list") }
        var keywords: [String] = []
        for item in items {
            guard let text = item.stringValue, !WordTokenizer.words(text).isEmpty else {
                throw Problem(message: "category '\(category)': every keyword must be a non-empty string with a letter or digit")
            }
            keywords.append(text)
        }
        return keywords
    }
}
