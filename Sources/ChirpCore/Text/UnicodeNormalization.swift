import Foundation

/// Unicode normalization forms used for aggregation keys.
enum UnicodeNormalization {
    /// Compatibility composition: full-width letters become ASCII, ligatures split, accents compose.
    static func nfkc(_ text: String) -> String {
        text.precomposedStringWithCompatibilityMapping
    }
}
