/// Plain-text rendering for the `chirp` CLI: aligned tables and bar charts. Pure.
public enum Report {
    /// Columns separated by two spaces, header underlined; columns in `rightAligned` are padded on
    /// the left (numbers). Widths count characters, so wide scripts may be off by a little.
    public static func table(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (index, cell) in cells.enumerated() {
                let padding = String(repeating: " ", count: max(0, widths[index] - cell.count))
                let isLast = index == cells.count - 1
                parts.append(rightAligned.contains(index) ? padding + cell : (isLast ? cell : cell + padding))
            }
            return parts.joined(separator: "  ")
        }
        var lines = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }

    /// A horizontal bar `width` cells long for `max`, in eighths of a cell.
    public static func bar(_ value: Int64, max: Int64, width: Int) -> String {
        guard max > 0, value > 0, width > 0 else { return "" }
        let eighths = Int((Double(value) / Double(max) * Double(width * 8)).rounded())
        let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        let full = Swift.min(eighths / 8, width)
        let rest = full == width ? "" : partials[eighths % 8]
        return String(repeating: "█", count: full) + (rest.isEmpty && full == 0 ? "▏" : rest)
    }

    /// `1234567` → `1 234 567` (thin groups a reader can count, free of locale).
    public static func number(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, char) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(" ") }
            out.append(char)
        }
        return (value < 0 ? "-" : "") + out
    }
}
