/// The character-level rules of the distribution reference grammar.
///
/// Each check returns what is wrong, in words, or nil when the text is valid, so the
/// parser can say exactly which rule a reference breaks.
///
/// ```
/// registry        := host [":" port]
/// host            := domain-component ("." domain-component)* | "[" ipv6 "]"
/// domain-component:= [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
/// path-component  := [a-z0-9]+ (separator [a-z0-9]+)*     separator := "." | "_" | "__" | "-"+
/// tag             := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
/// ```
enum ReferenceGrammar {
    /// The longest `registry/repository` a reference may name.
    static let maximumNameLength = 255
    /// The longest tag.
    static let maximumTagLength = 128

    static func isLowercaseAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        isLowercaseAlphanumeric(scalar) || ("A"..."Z").contains(scalar)
    }

    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        isAlphanumeric(scalar) || scalar == "_"
    }

    static func hasUppercase(_ text: Substring) -> Bool {
        text.unicodeScalars.contains { ("A"..."Z").contains($0) }
    }

    static func tagProblem(_ tag: Substring) -> String? {
        guard let first = tag.unicodeScalars.first else { return "the tag after \":\" is empty" }
        guard isWordCharacter(first) else {
            return "the tag \"\(tag)\" must start with a letter, a digit or \"_\""
        }
        if let bad = tag.unicodeScalars.first(where: { !isWordCharacter($0) && $0 != "." && $0 != "-" }) {
            return "the tag \"\(tag)\" has \"\(bad)\" (allowed: letters, digits, \"_\", \".\" and \"-\")"
        }
        guard tag.unicodeScalars.count <= maximumTagLength else {
            return "the tag is \(tag.unicodeScalars.count) characters long (at most \(maximumTagLength))"
        }
        return nil
    }

    static func pathComponentProblem(_ component: Substring) -> String? {
        guard !component.isEmpty else { return "the repository path has an empty component" }
        var separator = ""
        var sawAlphanumeric = false
        for scalar in component.unicodeScalars {
            if isLowercaseAlphanumeric(scalar) {
                if !separator.isEmpty {
                    guard sawAlphanumeric, isAllowedSeparator(separator) else {
                        return separatorProblem(separator, in: component)
                    }
                    separator = ""
                }
                sawAlphanumeric = true
            } else if scalar == "." || scalar == "_" || scalar == "-" {
                separator.unicodeScalars.append(scalar)
            } else {
                return "the repository path component \"\(component)\" has \"\(scalar)\" (allowed: lowercase letters, digits, \".\", \"_\" and \"-\")"
            }
        }
        if !separator.isEmpty || !sawAlphanumeric {
            return "the repository path component \"\(component)\" must start and end with a lowercase letter or digit"
        }
        return nil
    }

    private static func isAllowedSeparator(_ separator: String) -> Bool {
        separator == "." || separator == "_" || separator == "__" || separator.allSatisfy { $0 == "-" }
    }

    private static func separatorProblem(_ separator: String, in component: Substring) -> String {
        if component.unicodeScalars.first.map(isLowercaseAlphanumeric) != true {
            return "the repository path component \"\(component)\" must start and end with a lowercase letter or digit"
        }
        return "the repository path component \"\(component)\" has the separator \"\(separator)\" (allowed: \".\", \"_\", \"__\" or dashes)"
    }

    static func registryProblem(_ registry: Substring) -> String? {
        var host = registry
        var port: Substring?
        if registry.hasPrefix("[") {
            // A bracketed IPv6 address, whose colons are not a port separator.
            guard let close = registry.firstIndex(of: "]") else {
                return "the registry \"\(registry)\" opens an IPv6 address with \"[\" and never closes it"
            }
            let address = registry[registry.index(after: registry.startIndex)..<close]
            let isHexOrColon: (Unicode.Scalar) -> Bool = { ("0"..."9").contains($0) || ("a"..."f").contains($0) || ("A"..."F").contains($0) || $0 == ":" }
            guard !address.isEmpty, address.unicodeScalars.allSatisfy(isHexOrColon) else {
                return "the registry \"\(registry)\" has a malformed IPv6 address"
            }
            let after = registry[registry.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return "the registry \"\(registry)\" has text after its IPv6 address" }
                port = after.dropFirst()
            }
            host = ""
        } else if let colon = registry.firstIndex(of: ":") {
            host = registry[..<colon]
            port = registry[registry.index(after: colon)...]
        }
        if let port, port.isEmpty || !port.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) {
            return "the registry \"\(registry)\" has the port \"\(port)\", which is not a number"
        }
        guard !registry.hasPrefix("[") else { return nil }
        for component in host.split(separator: ".", omittingEmptySubsequences: false) {
            guard let first = component.unicodeScalars.first, let last = component.unicodeScalars.last else {
                return "the registry \"\(registry)\" has an empty host name component"
            }
            let valid = isAlphanumeric(first) && isAlphanumeric(last)
                && component.unicodeScalars.allSatisfy { isAlphanumeric($0) || $0 == "-" }
            guard valid else {
                return "the registry host component \"\(component)\" must be letters, digits and inner dashes"
            }
        }
        return nil
    }
}
