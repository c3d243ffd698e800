/// Columns aligned as Go's text/tabwriter aligns crictl's tables (minwidth 20, padding 3,
/// spaces): every column but the last is as wide as its widest cell plus the padding, and
/// at least the minimum width; the last column is not padded.
public struct TableWriter {
    public var minimumWidth = 20
    public var padding = 3
    private var rows: [[String]] = []

    public init(header: [String]) {
        rows.append(header)
    }

    public mutating func add(_ row: [String]) {
        rows.append(row)
    }

    public func rendered() -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() where index < row.count - 1 {
                widths[index] = max(widths[index], max(minimumWidth, cell.count + padding))
            }
        }
        var text = ""
        for row in rows {
            for (index, cell) in row.enumerated() {
                text += cell
                if index < row.count - 1 { text += String(repeating: " ", count: widths[index] - cell.count) }
            }
            text += "\n"
        }
        return text
    }
}
