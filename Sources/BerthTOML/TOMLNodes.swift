import BerthJSON

/// A value while the document is read: arrays of tables and tables stay open for later
/// headers and dotted keys until the end.
indirect enum ValueNode {
    case value(JSONValue)
    case array([ValueNode])
    case table(TableNode)
    case tableArray([TableNode])

    var json: JSONValue {
        switch self {
        case .value(let value): value
        case .array(let items): .array(items.map(\.json))
        case .table(let table): table.json
        case .tableArray(let tables): .array(tables.map(\.json))
        }
    }
}

struct TableNode {
    var members: [(key: String, value: ValueNode)] = []
    /// `{ ... }`: closed once written.
    var isInline = false
    /// Named by a `[header]` (a second one is an error, and dotted keys may not add to it
    /// from elsewhere).
    var hasHeader = false
    /// Made by dotted keys (`a.b = 1`): a `[header]` may not reopen it.
    var madeByDottedKeys = false

    var json: JSONValue { .object(JSONObject(members.map { ($0.key, $0.value.json) })) }

    func index(of key: String) -> Int? { members.firstIndex { $0.key == key } }

    /// `key = value` in the table at `path` (the current header's).
    mutating func assign(_ key: [String], _ value: ValueNode, in path: [String], line: Int) throws(TOMLSyntaxError) {
        if let first = path.first {
            try descend(first, line: line, through: path) { (child: inout TableNode) throws(TOMLSyntaxError) in
                try child.assign(key, value, in: Array(path.dropFirst()), line: line)
            }
            return
        }
        if key.count > 1 {
            // A dotted key makes or extends a table below this one, never one a header made.
            if let index = index(of: key[0]), case .table(let existing) = members[index].value, existing.hasHeader {
                throw TOMLSyntaxError(line: line, reason: "\"\(key.joined(separator: "."))\": table \"\(key[0])\" was defined by a [header]; add to it there")
            }
            try descend(key[0], line: line, through: key, allowArrays: false, dotted: true) { (child: inout TableNode) throws(TOMLSyntaxError) in
                try child.assign(Array(key.dropFirst()), value, in: [], line: line)
            }
            return
        }
        guard index(of: key[0]) == nil else { throw TOMLSyntaxError(line: line, reason: "key \"\(key[0])\" is defined twice") }
        members.append((key[0], value))
    }

    /// `[path]`: a table, made explicit once.
    mutating func defineTable(at path: [String], line: Int) throws(TOMLSyntaxError) {
        let name = path[0]
        if path.count > 1 {
            try descend(name, line: line, through: path) { (child: inout TableNode) throws(TOMLSyntaxError) in
                try child.defineTable(at: Array(path.dropFirst()), line: line)
            }
            return
        }
        if let index = index(of: name) {
            guard case .table(var table) = members[index].value, !table.isInline else {
                throw TOMLSyntaxError(line: line, reason: "[\(name)] names a key that is not a table")
            }
            guard !table.hasHeader else { throw TOMLSyntaxError(line: line, reason: "table [\(name)] is defined twice") }
            guard !table.madeByDottedKeys else { throw TOMLSyntaxError(line: line, reason: "table [\(name)] was already defined by dotted keys") }
            table.hasHeader = true
            members[index].value = .table(table)
        } else {
            var table = TableNode()
            table.hasHeader = true
            members.append((name, .table(table)))
        }
    }

    /// `[[path]]`: one more table in the array.
    mutating func appendArrayTable(at path: [String], line: Int) throws(TOMLSyntaxError) {
        let name = path[0]
        if path.count > 1 {
            try descend(name, line: line, through: path) { (child: inout TableNode) throws(TOMLSyntaxError) in
                try child.appendArrayTable(at: Array(path.dropFirst()), line: line)
            }
            return
        }
        if let index = index(of: name) {
            guard case .tableArray(var tables) = members[index].value else {
                throw TOMLSyntaxError(line: line, reason: "[[\(name)]] names a key that is not an array of tables")
            }
            tables.append(TableNode())
            members[index].value = .tableArray(tables)
        } else {
            members.append((name, .tableArray([TableNode()])))
        }
    }

    /// Runs `body` on the table under `name` (the last one of an array of tables), making
    /// it when missing.
    private mutating func descend(
        _ name: String, line: Int, through path: [String], allowArrays: Bool = true, dotted: Bool = false,
        _ body: (inout TableNode) throws(TOMLSyntaxError) -> Void
    ) throws(TOMLSyntaxError) {
        guard let index = index(of: name) else {
            var table = TableNode()
            table.madeByDottedKeys = dotted
            try body(&table)
            members.append((name, .table(table)))
            return
        }
        switch members[index].value {
        case .table(var table) where !table.isInline:
            try body(&table)
            members[index].value = .table(table)
        case .tableArray(var tables) where allowArrays && !tables.isEmpty:
            try body(&tables[tables.count - 1])
            members[index].value = .tableArray(tables)
        default:
            throw TOMLSyntaxError(line: line, reason: "\"\(path.joined(separator: "."))\": \"\(name)\" is already a value, not a table")
        }
    }
}
