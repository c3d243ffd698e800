/// A mismatch between a JSON document and the type read from it, with the path of the
/// member that did not fit (`process.user.uid`).
public struct JSONDecodingError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// Decodes `Decodable` types from a `JSONValue` without Foundation.
///
/// Unknown members are ignored, as the OCI runtime spec requires of config.json readers.
public enum JSONValueDecoder {
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        do {
            return try T(from: ValueDecoder(value: value, codingPath: []))
        } catch let error as DecodingError {
            throw JSONDecodingError(error)
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decode(type, from: try JSONParser.parse(bytes))
    }
}

extension JSONDecodingError {
    init(_ error: DecodingError) {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            self.init(path: Self.render(context.codingPath), reason: context.debugDescription)
        case .keyNotFound(let key, let context):
            self.init(path: Self.render(context.codingPath + [key]), reason: "required member is missing")
        @unknown default:
            self.init(path: "", reason: "\(error)")
        }
    }

    static func render(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                if !text.isEmpty { text += "." }
                text += key.stringValue
            }
        }
        return text
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String { String(intValue!) }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private func describe(_ value: JSONValue) -> String {
    switch value {
    case .null: "null"
    case .bool: "a boolean"
    case .number(let number): "the number \(number.text)"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(describe(value))"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch("an object") }
        return KeyedDecodingContainer(KeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch("an array") }
        return UnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(decoder: self) }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let value) = decoder.value else { throw decoder.mismatch("a boolean") }
        return value
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let value) = decoder.value else { throw decoder.mismatch("a string") }
        return value
    }
    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let number) = decoder.value, let value = number.double else { throw decoder.mismatch("a number") }
        return value
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .number(let number) = decoder.value else { throw decoder.mismatch("an integer") }
        if T.isSigned, let value = number.int64, let result = T(exactly: value) { return result }
        if !T.isSigned, let value = number.uint64, let result = T(exactly: value) { return result }
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(number.text) does not fit in \(T.self)"))
    }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if type == JSONValue.self { return decoder.value as! T }
        return try T(from: decoder)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    func child(_ key: Key) throws -> ValueDecoder {
        guard let value = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return ValueDecoder(value: value, codingPath: codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool { (object[key.stringValue] ?? .null) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try SingleContainer(decoder: child(key)).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try SingleContainer(decoder: child(key)).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try SingleContainer(decoder: child(key)).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try SingleContainer(decoder: child(key)).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try SingleContainer(decoder: child(key)).integer(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try SingleContainer(decoder: child(key)).integer(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try SingleContainer(decoder: child(key)).integer(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try SingleContainer(decoder: child(key)).integer(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try SingleContainer(decoder: child(key)).integer(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try SingleContainer(decoder: child(key)).integer(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try SingleContainer(decoder: child(key)).integer(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try SingleContainer(decoder: child(key)).integer(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try SingleContainer(decoder: child(key)).integer(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try SingleContainer(decoder: child(key)).integer(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try SingleContainer(decoder: child(key)).decode(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(object), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "array ended early"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: elements[currentIndex], codingPath: codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, elements[currentIndex] == .null { currentIndex += 1; return true }
        return false
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try SingleContainer(decoder: next()).decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { try SingleContainer(decoder: next()).decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try SingleContainer(decoder: next()).decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try SingleContainer(decoder: next()).decode(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try SingleContainer(decoder: next()).integer(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try SingleContainer(decoder: next()).integer(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try SingleContainer(decoder: next()).integer(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try SingleContainer(decoder: next()).integer(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try SingleContainer(decoder: next()).integer(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try SingleContainer(decoder: next()).integer(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try SingleContainer(decoder: next()).integer(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try SingleContainer(decoder: next()).integer(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try SingleContainer(decoder: next()).integer(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try SingleContainer(decoder: next()).integer(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try SingleContainer(decoder: next()).decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

extension JSONValue: Decodable {
    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? ValueDecoder {
            self = decoder.value
            return
        }
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "JSONValue decodes only through JSONValueDecoder"))
    }
}
