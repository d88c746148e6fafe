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
        guard let root = value.objectValue else { throw Problem(message: "category file must be a JSON object") }
        let mode = root["mode"]?.stringValue ?? "replace"
        guard mode == "replace" || mode == "extend" else { throw Problem(message: "mode must be 'replace' or 'extend', got '\(mode)'") }
        guard let categories = (root["categories"] ?? value).objectValue else {
            throw Problem(message: "'categories' must be an object of category name → list of keywords")
        }
        var result = mode == "extend" ? base.categories : []
        for (name, keywordsValue) in categories.members where name != "mode" || root["categories"] != nil {
            guard let list = keywordsValue.arrayValue else { throw Problem(message: "category '\(name)': keywords must be a list") }
            var keywords: [String] = []
            for keyword in list {
                guard let text = keyword.stringValue, !WordTokenizer.words(text).isEmpty else {
                    throw Problem(message: "category '\(name)': every keyword must be a non-empty string with a letter or digit")
                }
                keywords.append(text)
            }
            guard !name.isEmpty, name != CategoryTable.uncategorized else {
                throw Problem(message: "'\(name)' cannot be a category name")
            }
            if let index = result.firstIndex(where: { $0.name == name }) {
                result[index].keywords.append(contentsOf: keywords)
            } else {
                result.append(CategoryTable.Category(name: name, keywords: keywords))
            }
        }
        guard !result.isEmpty else { throw Problem(message: "category file defines no categories") }
        return CategoryTable(result)
    }
}
